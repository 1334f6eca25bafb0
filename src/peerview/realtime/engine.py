"""Socket.IO with a direct websocket path: python-socketio, minus a task switch per packet.

python-engineio gives every websocket a writer task: each packet sent is put on a queue, and the
writer wakes to take it (a new task each time, to wait with a timeout); each packet received is
awaited in another new task, again to wait with a timeout. Relaying a signal makes four tasks and
three task switches before the peer gets it; in a burst across 500 rooms that queueing, not the
relay's work, is most of the latency.

`Server` is python-socketio's `AsyncServer` whose websocket connections (those that open on
the websocket transport, as browsers' clients do unless told to poll first) use `DirectSocket`:
a packet is written to the websocket by the task that sends it, in the order it was sent, and
packets are read in one loop. Long-polling, and connections upgraded from it, keep the library's
path unchanged. A silent client is still found by Engine.IO's own ping check, which now also
closes the websocket.

The subclassing relies on python-engineio's `AsyncSocket` (pinned in pyproject.toml); the
realtime suite exercises both paths.

Every HTTP answer of the server (the polling transport's GETs and POSTs, the handshake, its
refusals) and the websocket's opening carry the API's security headers (docs/api.md §1.8),
whichever way the request reached it. A websocket refused before it opened is answered, where
the ASGI server offers it (granian does), as a plain 403 with those headers rather than a bare
close.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import engineio
import msgspec
import socketio
import socketio.packet
from engineio import exceptions, packet
from engineio.async_socket import AsyncSocket
from socketio.packet import EVENT
from starlette.types import Message, Receive, Scope, Send

from peerview.http.headers import secured

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class _Json:
    """The `json` module's two calls that Socket.IO packets make, done by msgspec."""

    @staticmethod
    def dumps(data: Any, **_: Any) -> str:
        return _encode(data).decode()

    @staticmethod
    def loads(text: str | bytes) -> Any:
        return _decode(text)


class Packet(socketio.packet.Packet):  # type: ignore[misc]
    """Socket.IO packets encoded and decoded by msgspec, checked for binary data in one walk."""

    json = _Json

    @classmethod
    def data_is_binary(cls, data: Any) -> bool:
        pending = [data]
        while pending:
            item = pending.pop()
            kind = type(item)
            if kind is str or kind is int or kind is float or kind is bool or item is None:
                continue
            if isinstance(item, dict):
                pending.extend(item.values())
            elif isinstance(item, list | tuple):
                pending.extend(item)
            elif isinstance(item, bytes | bytearray):
                return True
        return False


class Manager(socketio.AsyncManager):  # type: ignore[misc]
    """python-socketio's manager, writing an emit with no callback to its recipients in turn.

    The library makes a task per recipient and waits for them all; the recipients' sends only
    hand the packet over (to the websocket, or to a long poll's queue), so one after the other
    costs no waiting and no task. The packet is encoded once, as the library does.
    """

    async def emit(
        self,
        event: str,
        data: Any,
        namespace: str,
        room: str | None = None,
        skip_sid: Any = None,
        callback: Any = None,
        to: str | None = None,
        **kwargs: Any,
    ) -> None:
        if callback is not None or namespace not in self.rooms:
            await super().emit(
                event, data, namespace, room, skip_sid, callback=callback, to=to, **kwargs
            )
            return
        data = list(data) if isinstance(data, tuple) else [] if data is None else [data]
        skip = skip_sid if isinstance(skip_sid, list) else [skip_sid]
        encoded = self.server.packet_class(EVENT, namespace=namespace, data=[event, *data]).encode()
        messages = [
            packet.Packet(packet.MESSAGE, part)
            for part in (encoded if isinstance(encoded, list) else [encoded])
        ]
        for sid, eio_sid in list(self.get_participants(namespace, to or room)):
            if sid in skip:
                continue
            for message in messages:
                try:
                    await self.server._send_eio_packet(eio_sid, message)
                except Exception:
                    self._get_logger().exception("emit to %s failed", sid)


class DirectSocket(AsyncSocket):  # type: ignore[misc]
    """An Engine.IO socket that writes websocket packets as they are sent."""

    _ws: Any = None
    connected: bool
    upgraded: bool

    async def send(self, pkt: packet.Packet) -> None:
        ws = self._ws
        if ws is None:
            await super().send(pkt)
            return
        if self.closed or not await self.check_ping_timeout():
            return
        try:
            await ws.send(pkt.encode())
        except Exception:  # a peer gone mid-send: its reader ends the socket
            self.server.logger.info("%s: send on a closed websocket", self.sid)

    async def close(self, wait: bool = True, abort: bool = False, reason: Any = None) -> None:
        await super().close(wait=wait and self._ws is None, abort=abort, reason=reason)
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()

    async def _websocket_handler(self, ws: Any) -> None:
        if self.connected:
            # An upgrade from long-polling: the library's own path.
            await super()._websocket_handler(ws)
            return
        self.connected = True
        self.upgraded = True
        # What was sent before the websocket opened (the open packet, the connect answer).
        while not self.queue.empty():
            queued = self.queue.get_nowait()
            self.queue.task_done()
            if queued is not None:
                await ws.send(queued.encode())
        self._ws = ws
        limit = self.server.max_http_buffer_size
        while self._ws is not None:
            try:
                data = await ws.wait()
            except Exception:  # the client went away
                break
            if data is None or len(data) > limit:
                break
            try:
                await self.receive(packet.Packet(encoded_packet=data))
            except exceptions.UnknownPacketError:
                pass
            except exceptions.SocketIsClosedError:
                break
            except Exception:
                self.server.logger.exception("Unknown receive error")
        self._ws = None
        await ws.close()
        await self.close(wait=False, abort=True, reason=self.server.reason.TRANSPORT_CLOSE)


class EngineServer(engineio.AsyncServer):  # type: ignore[misc]
    """python-engineio's server whose session ids name the process that holds them
    (`<route>.<random>`, realtime/routing.py), once a served process has set its route."""

    route = ""

    def generate_id(self) -> str:
        sid: str = super().generate_id()
        return f"{self.route}.{sid}" if self.route else sid


class Server(socketio.AsyncServer):  # type: ignore[misc]
    """python-socketio's server with `DirectSocket` for websocket connections, msgspec for its
    packets, session ids that say which process holds them, and work to do once an event has
    been answered (`after_answer`)."""

    eio: EngineServer

    def __init__(self, *, client_manager: Manager | None = None, **options: Any) -> None:
        super().__init__(client_manager=client_manager or Manager(), serializer=Packet, **options)
        # Socket id → what to do once the event being handled for it has been answered (its
        # acknowledgement handed to the transport): a handler may not end its own socket
        # before its answer has left.
        self.after_answer: dict[str, Callable[[], Awaitable[None]]] = {}

    async def _handle_event_internal(
        self, server: Any, sid: str, eio_sid: str, data: Any, namespace: str, id: Any
    ) -> None:
        try:
            await super()._handle_event_internal(server, sid, eio_sid, data, namespace, id)
        finally:
            after = self.after_answer.pop(sid, None)
            if after is not None:
                try:
                    await after()
                except Exception:
                    self.logger.exception("after answering %s", sid)

    def _engineio_server_class(self) -> type[EngineServer]:
        return EngineServer

    async def _handle_eio_connect(self, eio_sid: str, environ: dict[str, Any]) -> Any:
        socket = self.eio.sockets.get(eio_sid)
        if type(socket) is AsyncSocket:
            socket.__class__ = DirectSocket
        return await super()._handle_eio_connect(eio_sid, environ)

    async def handle_request(self, scope: Scope, receive: Receive, send: Send) -> Any:
        return await super().handle_request(scope, receive, _securing(scope, send))


_DENIAL = "websocket.http.response"
_PLAIN_TEXT = (b"content-type", b"text/plain; charset=utf-8")


def _securing(scope: Scope, send: Send) -> Send:
    """`send`, adding the security headers to each answer Engine.IO starts."""
    can_deny = _DENIAL in (scope.get("extensions") or {})
    opened = False

    async def send_secured(message: Message) -> None:
        nonlocal opened
        kind = message["type"]
        if kind == "http.response.start":
            message = {**message, "headers": secured(message.get("headers") or (), no_store=True)}
        elif kind == "websocket.accept":
            opened = True
            message = {**message, "headers": secured(message.get("headers") or (), no_store=True)}
        elif kind == "websocket.close" and not opened and can_deny:
            # Refused before it opened (a foreign origin, a bad request): the server would
            # answer a bare 403 of its own; this one carries the headers and the reason.
            reason = str(message.get("reason") or "")
            await send(
                {
                    "type": f"{_DENIAL}.start",
                    "status": 403,
                    "headers": secured([_PLAIN_TEXT], no_store=True),
                }
            )
            await send({"type": f"{_DENIAL}.body", "body": reason.encode()})
            return
        await send(message)

    return send_secured
