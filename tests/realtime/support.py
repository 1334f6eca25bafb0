"""Helpers for realtime tests: the real server (granian) in the test loop, recording clients."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import socketio
from fastapi import FastAPI
from granian.constants import HTTPModes, Interfaces
from granian.log import LogLevels
from granian.server.embed import Server as EmbeddedServer

from peerview import tokens
from peerview.asgi import wrap
from peerview.users import repository as users_repository
from tests.flow import Flow

# The standard JavaScript client (socket.io-client v4), installed there by `make test`.
JS_DIR = Path(__file__).parent / "js"
RECORDED = (
    "presence",
    "signal",
    "session",
    "notification",
    "access_revoked",
    "code_update",
    "code_awareness",
    "code_language",
    "practice_message",
    "practice_delta",
    "practice_feedback",
)
WAIT = 5.0
STOP_SECONDS = 1.0
# granian configures logging whenever a server is made: its own loggers only, quietly, and
# nothing else of the test process's logging touched.
QUIET_GRANIAN: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "incremental": True,
    "formatters": {},
    "handlers": {},
    "loggers": {"_granian": {"level": "WARNING"}},
}


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """`app`, wrapped as `peerview.asgi` serves it, on a free port of this machine.

    granian, the server of `peerview serve`, embedded in the test's own loop: the server shares
    the app's fake clock and engine with the test. Lifespan is off (the "asginl" interface)
    because the `app` fixture owns the app's resources.
    """
    # granian binds with SO_REUSEPORT: holding the port with that option until it listens
    # keeps another process from taking it in between; ours never listens, so gets nothing.
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    holder.bind(("127.0.0.1", 0))
    port = holder.getsockname()[1]
    server = EmbeddedServer(
        wrap(app),
        address="127.0.0.1",
        port=port,
        interface=Interfaces.ASGINL,
        http=HTTPModes.http1,
        websockets=True,
        log_level=LogLevels.warning,
        log_dictconfig=QUIET_GRANIAN,
    )
    task = asyncio.create_task(server.serve())
    try:
        await _until_listening(port, task)
        holder.close()
        yield f"http://127.0.0.1:{port}"
    finally:
        holder.close()
        server.stop()
        # What a client left in flight (a long poll, say) may hold the stop: a second is enough.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(task), STOP_SECONDS)
        if not task.done():
            for worker in server.wrks:
                worker.kill()
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def _until_listening(port: int, task: asyncio.Task[None]) -> None:
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        if task.done():
            task.result()
            raise RuntimeError("the embedded server stopped at start")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if asyncio.get_running_loop().time() > deadline:
                raise
            await asyncio.sleep(0.01)
            continue
        writer.close()
        await writer.wait_closed()
        return


class Peer:
    """A Socket.IO client that records every server event it receives."""

    def __init__(
        self,
        url: str,
        token: str | None,
        *,
        fresh_connections: bool = False,
        **connect_options: Any,
    ) -> None:
        self.url = url
        self.token = token
        self.connect_options = connect_options
        # Our own HTTP session, closed by close(): after a refused handshake the client
        # would leave its own one open. With `fresh_connections`, every request of the
        # long-polling transport goes on a new connection, as a load balancer may send them.
        self.http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(force_close=True) if fresh_connections else None
        )
        self.client = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.received: dict[str, list[Any]] = defaultdict(list)
        self._arrived = asyncio.Event()
        for name in RECORDED:
            self.client.on(name, self._recorder(name))
        self.connect_errors: list[Any] = []
        self.client.on("connect_error", self._refused)
        # Why each disconnection happened, as the client saw it.
        self.disconnects: list[Any] = []
        self._gone = asyncio.Event()
        self.client.on("disconnect", self._disconnected)

    async def _refused(self, data: Any) -> None:
        self.connect_errors.append(data)

    async def _disconnected(self, reason: Any = None) -> None:
        self.disconnects.append(reason)
        self._gone.set()

    def _recorder(self, name: str) -> Callable[[Any], Any]:
        async def record(data: Any) -> None:
            self.received[name].append(data)
            self._arrived.set()

        return record

    async def connect(self) -> Peer:
        auth = {"token": self.token} if self.token is not None else None
        await self.client.connect(
            self.url,
            auth=auth,
            transports=["websocket"],
            wait_timeout=WAIT,
            **self.connect_options,
        )
        return self

    async def close(self) -> None:
        if self.client.connected:
            await self.client.disconnect()
        await self.client.shutdown()
        await self.http.close()

    async def call(self, event: str, data: Any) -> Any:
        return await self.client.call(event, data, timeout=WAIT)

    async def join(self, session_id: str) -> Any:
        return await self.call("join", {"session_id": session_id})

    async def send_signal(self, session_id: str, kind: str, data: Any) -> Any:
        return await self.call("signal", {"session_id": session_id, "type": kind, "data": data})

    async def wait_for(
        self, name: str, count: int = 1, where: Callable[[Any], bool] | None = None
    ) -> list[Any]:
        """The first `count` events `name` (that match `where`), waiting up to WAIT seconds."""

        def matching() -> list[Any]:
            return [e for e in self.received[name] if where is None or where(e)]

        async def arrived() -> list[Any]:
            while len(matching()) < count:
                self._arrived.clear()
                await self._arrived.wait()
            return matching()

        return await asyncio.wait_for(arrived(), WAIT)

    async def ended(self, wait: float = WAIT) -> Any:
        """The `access_revoked` notice of a socket the server ended, once it is disconnected.

        The notice comes first, then the server's disconnect (not a dropped transport).
        """
        await asyncio.wait_for(self._gone.wait(), wait)
        assert self.disconnects == [socketio.AsyncClient.reason.SERVER_DISCONNECT], self.disconnects
        [notice] = self.received["access_revoked"]
        return notice

    async def barrier(self) -> None:
        """A round trip to the server: every event it sent this socket before is in by now.

        A socket's packets arrive in order, so anything the server emitted to it before
        answering this call has been received (and recorded) when the answer arrives.
        """
        ack = await self.call("leave", {"session_id": "barrier"})
        assert ack == {"ok": True}, ack


async def exactly_one(peer: Peer, event: str) -> dict[str, Any]:
    """The one `session` event named `event` this socket got (a barrier rules out a second)."""
    await peer.wait_for("session", where=lambda e: e["event"] == event)
    await peer.barrier()
    matching = [e for e in peer.received["session"] if e["event"] == event]
    assert len(matching) == 1, peer.received["session"]
    return matching[0]


async def silently_revoke(app: FastAPI, token: str) -> None:
    """Revoke `token` in the database and tell no process: what an announcement that was lost
    (Redis away) leaves behind."""
    services = app.services
    claims = tokens.decode(
        token, secret=services.settings.signing_secret(), now=services.clock.now()
    )
    async with services.database.transaction() as db:
        await users_repository.revoke_token(
            db, jti=claims.jti, user_id=claims.subject, expires_at=claims.expires_at
        )


@asynccontextmanager
async def peers(url: str, *tokens: str) -> AsyncIterator[list[Peer]]:
    connected: list[Peer] = []
    try:
        for token in tokens:
            connected.append(await Peer(url, token).connect())
        yield connected
    finally:
        for peer in connected:
            await peer.close()


async def joined(url: str, flow: Flow) -> tuple[Peer, Peer]:
    """The session's interviewer and interviewee, connected and joined to it."""
    caller = await Peer(url, flow.interviewer.token).connect()
    callee = await Peer(url, flow.interviewee.token).connect()
    for peer in (caller, callee):
        ack = await peer.join(flow.id)
        assert ack["ok"] is True, ack
    return caller, callee
