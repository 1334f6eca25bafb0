"""A Socket.IO client for the relay benchmark, in raw websocket frames.

The relay's latency is what it takes a signal to go from one client through the server to
another; a full client (python-socketio: about 170 µs of its own per message here) would add
more than the relay itself to every signal of a burst. This one speaks only what the benchmark
needs of Engine.IO 4 / Socket.IO 5 over a websocket (RFC 6455, one unfragmented text frame per
packet): connect with `auth`, events with and without an acknowledgement, pings answered.
A frame costs it a few microseconds, so a burst's figures are the server's.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

Handler = Callable[[Any], None]


def frame(text: str) -> bytes:
    """One masked text frame (a client must mask; the all-zero key leaves the bytes as they are)."""
    payload = text.encode()
    size = len(payload)
    if size < 126:
        head = struct.pack("!BB", 0x81, 0x80 | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", 0x81, 0x80 | 126, size)
    else:
        head = struct.pack("!BBQ", 0x81, 0x80 | 127, size)
    return head + b"\0\0\0\0" + payload


class LeanSocket(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._buffer = bytearray()
        self._upgraded = False
        self._handshake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._connected: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._handlers: dict[str, Handler] = {}
        self._acks: dict[int, Callable[..., None]] = {}
        self._next_ack = 0
        self.closed = asyncio.get_running_loop().create_future()

    # -- asyncio.Protocol ------------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        for future in (self._handshake, self._connected, self.closed):
            if not future.done():
                future.set_result(None)  # type: ignore[arg-type]

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buffer[: buffer.find(b"\r\n")])
            del buffer[: end + 4]
            if b" 101 " not in status:
                self._handshake.set_exception(ConnectionError(status.decode(errors="replace")))
                return
            self._upgraded = True
            self._handshake.set_result(None)
        while len(buffer) >= 2:
            opcode = buffer[0] & 0x0F
            size = buffer[1] & 0x7F
            start = 2
            if size == 126:
                if len(buffer) < 4:
                    return
                size = struct.unpack_from("!H", buffer, 2)[0]
                start = 4
            elif size == 127:
                if len(buffer) < 10:
                    return
                size = struct.unpack_from("!Q", buffer, 2)[0]
                start = 10
            if len(buffer) < start + size:
                return
            payload = bytes(buffer[start : start + size])
            del buffer[: start + size]
            if opcode == 0x1:
                self._packet(payload.decode())
            elif opcode == 0x9 and self.transport is not None:  # ping: pong
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + b"\0\0\0\0" + payload)
            elif opcode == 0x8 and self.transport is not None:
                self.transport.close()

    # -- Engine.IO and Socket.IO packets ---------------------------------------------------

    def _packet(self, text: str) -> None:
        kind = text[:1]
        if kind == "2":  # Engine.IO ping
            self.send("3")
        elif kind == "4":
            self._message(text[1:])
        # "0" (open) needs nothing: the Socket.IO connect is sent as soon as the socket opens.

    def _message(self, text: str) -> None:
        kind, rest = text[:1], text[1:]
        if kind == "2":  # event
            at = rest.find("[")
            name, data, *_ = json.loads(rest[at:])
            handler = self._handlers.get(name)
            if handler is not None:
                handler(data)
        elif kind == "3":  # acknowledgement
            at = rest.find("[")
            callback = self._acks.pop(int(rest[:at]), None)
            if callback is not None:
                callback(*json.loads(rest[at:]))
        elif kind == "0" and not self._connected.done():
            self._connected.set_result(json.loads(rest))
        elif kind == "4" and not self._connected.done():
            self._connected.set_exception(ConnectionError(rest))

    def send(self, text: str) -> None:
        assert self.transport is not None
        self.transport.write(frame(text))

    # -- the client's side -----------------------------------------------------------------

    def on(self, event: str, handler: Handler) -> None:
        self._handlers[event] = handler

    def event_frame(self, event: str, data: Any, callback: Callable[..., None] | None) -> bytes:
        """The frame of one event, to be written later with `write`."""
        if callback is None:
            return frame("42" + json.dumps([event, data], separators=(",", ":")))
        self._next_ack += 1
        self._acks[self._next_ack] = callback
        return frame(f"42{self._next_ack}" + json.dumps([event, data], separators=(",", ":")))

    def write(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.write(data)

    async def call(self, event: str, data: Any, wait: float = 60) -> Any:
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def acked(*args: Any) -> None:
            if not answer.done():
                answer.set_result(args[0] if args else None)

        self.write(self.event_frame(event, data, acked))
        return await asyncio.wait_for(answer, wait)

    async def disconnect(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.send("41")
            self.transport.write(b"\x88\x80\0\0\0\0")
            self.transport.close()


async def connect(url: str, auth: dict[str, Any], wait: float = 60) -> LeanSocket:
    """A Socket.IO connection to `url` (http://host:port) over the websocket transport."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    loop = asyncio.get_running_loop()
    _, socket = await loop.create_connection(LeanSocket, host, port)
    key = base64.b64encode(os.urandom(16)).decode()
    assert socket.transport is not None
    socket.transport.write(
        (
            f"GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\nHost: {host}:{port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    await asyncio.wait_for(socket._handshake, wait)
    socket.send("40" + json.dumps(auth, separators=(",", ":")))
    answer = await asyncio.wait_for(socket._connected, wait)
    if answer is None:
        raise ConnectionError("closed during the Socket.IO handshake")
    return socket
