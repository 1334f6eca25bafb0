"""Helpers for realtime tests: a real uvicorn server in the test loop, and recording clients."""

from __future__ import annotations

import asyncio
import socket
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import socketio
import uvicorn
from fastapi import FastAPI

from peerview.asgi import wrap

RECORDED = ("presence", "signal", "session", "notification")
WAIT = 5.0


@asynccontextmanager
async def serve(app: FastAPI) -> AsyncIterator[str]:
    """`app`, wrapped as `peerview.asgi` serves it, on a free port of this machine.

    The server runs as a task of the test's own loop, so it shares the app's fake clock and
    engine with the test; lifespan is off because the `app` fixture owns the app's resources.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        wrap(app),
        lifespan="off",
        log_level="warning",
        ws="websockets-sansio",
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class Peer:
    """A Socket.IO client that records every server event it receives."""

    def __init__(self, url: str, token: str | None, **connect_options: Any) -> None:
        self.url = url
        self.token = token
        self.connect_options = connect_options
        # Our own HTTP session, closed by close(): after a refused handshake the client
        # would leave its own one open.
        self.http = aiohttp.ClientSession()
        self.client = socketio.AsyncClient(reconnection=False, http_session=self.http)
        self.received: dict[str, list[Any]] = defaultdict(list)
        self._arrived = asyncio.Event()
        for name in RECORDED:
            self.client.on(name, self._recorder(name))
        self.connect_errors: list[Any] = []
        self.client.on("connect_error", self._refused)

    async def _refused(self, data: Any) -> None:
        self.connect_errors.append(data)

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

    async def barrier(self) -> None:
        """A round trip to the server: every event it sent this socket before is in by now.

        A socket's packets arrive in order, so anything the server emitted to it before
        answering this call has been received (and recorded) when the answer arrives.
        """
        ack = await self.call("leave", {"session_id": "barrier"})
        assert ack == {"ok": True}, ack


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
