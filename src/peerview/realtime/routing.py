"""Engine.IO sessions that stay on the process that opened them, whichever process is asked.

A Socket.IO client on its default options opens with long-polling: one handshake, then a
stream of GET and POST requests naming the session (`sid`), then a websocket upgrade naming it
too. The session lives in the memory of the process that answered the handshake; any other
process answers 400 or 403. `peerview serve --workers N` has N processes accepting on one
port, so the kernel hands each request to any of them.

So every session id carries where it lives: `<route>.<random>`, the route being the
process id, behind the node name when one is set (`NODE_NAME=a` → `a-4711.Xk…`). A process
that gets a request for a session of another process on its machine passes it, whole, to that
process over a Unix socket: the ASGI scope, then every ASGI message each way, until the
response or the websocket ends. Only requests that name another process's session take the
detour; the handshake, a websocket opened directly (no polling first) and every API request are
served where they land. A load balancer in front of several machines routes on the node name
instead (deploy/nginx/peerview.conf maps it to the node's upstream, docs/deploy.md).

A session of a process that is gone finds no socket to pass to: the request is answered here,
as an unknown session (400), and the client opens a new one, as after any lost connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import struct
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import msgspec
from starlette.types import ASGIApp, Message, Receive, Scope, Send

logger = logging.getLogger("peerview.realtime")

# The directory of the worker processes' Unix sockets, made by `peerview serve` (0700) when
# it starts more than one worker; unset, a process has no peers to pass requests to.
WORKER_SOCKETS_ENV = "PEERVIEW_WORKER_SOCKETS"
SOCKETIO_PREFIX = "/socket.io"

_HEADER = struct.Struct("!I")
_encode = msgspec.msgpack.Encoder().encode
_decode = msgspec.msgpack.Decoder().decode
# The scope's keys that cross: what python-engineio and the application read of it.
_SCOPE_KEYS = (
    "type",
    "asgi",
    "http_version",
    "method",
    "scheme",
    "path",
    "raw_path",
    "query_string",
    "root_path",
    "headers",
    "client",
    "server",
    "subprotocols",
)
_ENDS_RESPONSE = {"http.response.body", "websocket.close"}


def route_tag(node_name: str, pid: int) -> str:
    return f"{node_name}-{pid}" if node_name else str(pid)


def route_of(sid: str) -> str | None:
    """The route a session id names, or None for an id without one."""
    route, dot, _ = sid.partition(".")
    return route if dot else None


def requested_sid(scope: Scope) -> str | None:
    """The Engine.IO session a Socket.IO request names, if it names one."""
    if scope["type"] not in ("http", "websocket") or not scope["path"].startswith(SOCKETIO_PREFIX):
        return None
    query: bytes = scope.get("query_string", b"")
    if b"sid=" not in query:
        return None
    for key, value in parse_qsl(query.decode("latin-1")):
        if key == "sid":
            return value
    return None


async def _write(writer: asyncio.StreamWriter, message: Any) -> None:
    body = _encode(message)
    writer.write(_HEADER.pack(len(body)) + body)
    await writer.drain()


async def _read(reader: asyncio.StreamReader) -> Any:
    (size,) = _HEADER.unpack(await reader.readexactly(_HEADER.size))
    return _decode(await reader.readexactly(size))


class WorkerRouter:
    """This process's place among the workers of one `peerview serve`.

    It listens on `<directory>/<pid>.sock` for requests that other workers pass to it, and
    passes on requests for sessions of its siblings (`forward`).
    """

    def __init__(self, directory: Path, app: ASGIApp, *, pid: int | None = None) -> None:
        self.directory = directory
        self.app = app
        self.pid = pid if pid is not None else os.getpid()
        self.path = directory / f"{self.pid}.sock"
        self._server: asyncio.AbstractServer | None = None
        self._served: set[asyncio.Task[None]] = set()

    @classmethod
    def from_environment(cls, app: ASGIApp) -> WorkerRouter | None:
        directory = os.environ.get(WORKER_SOCKETS_ENV)
        return cls(Path(directory), app) if directory else None

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))

    async def stop(self) -> None:
        if self._server is None:
            return
        self._server.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        for task in list(self._served):
            task.cancel()
        await asyncio.gather(*self._served, return_exceptions=True)
        self._server = None

    # The worker a request was passed to.

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._served.add(task)
        try:
            scope: Scope = await _read(reader)
            disconnect: Message = (
                {"type": "http.disconnect"}
                if scope["type"] == "http"
                else {"type": "websocket.disconnect", "code": 1006}
            )

            async def receive() -> Message:
                try:
                    message: Message = await _read(reader)
                except (asyncio.IncompleteReadError, ConnectionError):
                    return disconnect
                return message

            async def send(message: Message) -> None:
                with contextlib.suppress(ConnectionError):
                    await _write(writer, message)

            await self.app(scope, receive, send)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except Exception:
            logger.exception("a request passed by another worker failed")
        finally:
            self._served.discard(task)
            writer.close()

    # The worker a request landed on.

    async def forward(self, scope: Scope, receive: Receive, send: Send) -> bool:
        """Pass the request to the worker whose session it names; False if this one must answer."""
        sid = requested_sid(scope)
        route = route_of(sid) if sid else None
        if route is None:
            return False
        owner = route.rpartition("-")[2]
        if not owner.isdigit() or int(owner) == self.pid:
            return False
        try:
            reader, writer = await asyncio.open_unix_connection(self.directory / f"{owner}.sock")
        except OSError:
            return False  # that worker is gone: answered here, as an unknown session
        try:
            await _write(writer, {key: scope[key] for key in _SCOPE_KEYS if key in scope})
            upstream = asyncio.create_task(self._pass_requests(receive, writer))
            try:
                while True:
                    try:
                        message = await _read(reader)
                    except (asyncio.IncompleteReadError, ConnectionError):
                        break
                    await send(message)
                    if message["type"] in _ENDS_RESPONSE and not message.get("more_body"):
                        break
            finally:
                upstream.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await upstream
        finally:
            writer.close()
        return True

    @staticmethod
    async def _pass_requests(receive: Receive, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while True:
                message = await receive()
                await _write(writer, message)
                if message["type"] in ("http.disconnect", "websocket.disconnect"):
                    return
