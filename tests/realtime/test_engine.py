"""The Socket.IO engine: websocket connections written directly, long-polling and upgrades on
python-engineio's own path, msgspec packets, emits written to recipients in turn."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
from engineio.async_socket import AsyncSocket
from fastapi import FastAPI
from socketio.packet import BINARY_EVENT, EVENT

from peerview.realtime import engine
from tests.factories import Factory
from tests.flow import accepted
from tests.realtime.support import Peer, joined

OFFER = {"type": "offer", "sdp": "v=0 offer"}


def eio_sockets(app: FastAPI) -> dict[str, AsyncSocket]:
    sockets: dict[str, AsyncSocket] = app.services.realtime.sio.eio.sockets
    return sockets


# -- packets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "binary"),
    [
        (["signal", {"from": "u", "data": {"sdp": "v=0", "n": [1, 2.5, None, True]}}], False),
        (["signal", {"data": {"chunks": [b"\x00\x01"]}}], True),
        (["signal", {"data": (1, bytearray(b"x"))}], True),
        (["notification", "plain"], False),
        (None, False),
    ],
)
def test_binary_data_is_found_at_any_depth(data: Any, binary: bool) -> None:
    assert engine.Packet.data_is_binary(data) is binary
    expected = BINARY_EVENT if binary else EVENT
    assert engine.Packet(EVENT, data=data).packet_type == expected


def test_packets_round_trip_through_msgspec_with_text_as_it_was() -> None:
    data = ["signal", {"from": "ü-ß", "type": "offer", "data": {"sdp": "a=ice\r\n", "n": 1.5}}]
    encoded = engine.Packet(EVENT, data=data, id=7).encode()
    assert (
        encoded == '27["signal",{"from":"ü-ß","type":"offer","data":{"sdp":"a=ice\\r\\n","n":1.5}}]'
    )
    decoded = engine.Packet(encoded_packet=encoded)
    assert (decoded.packet_type, decoded.id, decoded.data) == (EVENT, 7, data)


def test_a_malformed_packet_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="truncated"):
        engine.Packet(encoded_packet='2["signal",{')


# -- emits ---------------------------------------------------------------------------------


def connected(manager: engine.Manager, eio_sid: str, *rooms: str) -> str:
    """A client of `manager` in the default namespace, in `rooms`; its sid."""
    sid = f"sid-{eio_sid}"
    manager.basic_enter_room(sid, "/", None, eio_sid=eio_sid)
    for room in (sid, *rooms):
        manager.basic_enter_room(sid, "/", room)
    return sid


async def until(condition: Callable[[], bool]) -> None:
    """Wait (up to 5 s) for what the server does after the client's side is done."""
    async with asyncio.timeout(5):
        while not condition():  # noqa: ASYNC110 - python-engineio's socket table signals nothing
            await asyncio.sleep(0.01)


class RecordingServer:
    """What the manager needs of a server: the packet class and a raw send."""

    packet_class = engine.Packet
    logger = logging.getLogger("tests.realtime.engine")

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.sent: list[tuple[str, str]] = []

    async def _send_eio_packet(self, eio_sid: str, pkt: Any) -> None:
        if eio_sid in self.failing:
            raise ConnectionResetError(eio_sid)
        self.sent.append((eio_sid, pkt.encode()))


async def test_an_emit_reaches_every_recipient_but_the_skipped_even_when_one_send_fails(
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = RecordingServer(failing={"eio-b"})
    manager = engine.Manager()
    manager.set_server(server)
    manager.initialize()
    for eio_sid in ("eio-a", "eio-b", "eio-c"):
        connected(manager, eio_sid, "room")
    skipped = connected(manager, "eio-d", "room")
    connected(manager, "eio-out", "elsewhere")

    await manager.emit("signal", {"n": 1}, "/", room="room", skip_sid=skipped)

    message = '42["signal",{"n":1}]'
    assert sorted(server.sent) == [("eio-a", message), ("eio-c", message)]
    assert "emit to sid-eio-b failed" in caplog.text


async def test_an_emit_with_a_callback_keeps_the_librarys_path() -> None:
    server = RecordingServer(failing=set())
    calls: list[tuple[str, Any]] = []

    async def send_packet(eio_sid: str, pkt: Any) -> None:
        calls.append((eio_sid, pkt.encode()))

    server._send_packet = send_packet  # type: ignore[attr-defined]
    manager = engine.Manager()
    manager.set_server(server)
    manager.initialize()
    sid = connected(manager, "eio-a")

    await manager.emit("ping", None, "/", to=sid, callback=lambda *_: None)

    assert calls == [("eio-a", '21["ping"]')]
    assert server.sent == []


# -- the transports, served --------------------------------------------------------------


async def test_a_websocket_connection_is_written_directly_and_relays_in_order(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    flow = await accepted(factory)
    caller, callee = await joined(live_url, flow)
    try:
        assert {type(s) for s in eio_sockets(app).values()} == {engine.DirectSocket}
        for n in range(20):
            ack = await caller.send_signal(flow.id, "ice-candidate", {"n": n})
            assert ack == {"ok": True}
        signals = await callee.wait_for("signal", 20)
        assert [s["data"]["n"] for s in signals] == list(range(20))
    finally:
        await caller.close()
        await callee.close()
    await until(lambda: eio_sockets(app) == {})


async def test_long_polling_and_its_upgrade_keep_the_librarys_path(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    flow = await accepted(factory)
    polling = Peer(live_url, flow.interviewer.token)
    upgraded = Peer(live_url, flow.interviewee.token)
    for peer, transports in ((polling, ["polling"]), (upgraded, ["polling", "websocket"])):
        await peer.client.connect(live_url, auth={"token": peer.token}, transports=transports)
    try:
        for peer in (polling, upgraded):
            assert (await peer.join(flow.id))["ok"] is True
        assert upgraded.client.transport() == "websocket"
        assert polling.client.transport() == "polling"
        for sender, receiver in ((polling, upgraded), (upgraded, polling)):
            assert await sender.send_signal(flow.id, "offer", OFFER) == {"ok": True}
            (signal,) = await receiver.wait_for("signal")
            assert signal["data"] == OFFER
        # Both began on long-polling: python-engineio's writer queue serves them, never the
        # direct path.
        assert all(s._ws is None for s in eio_sockets(app).values())  # type: ignore[attr-defined]
    finally:
        # Dropped without a goodbye: a long-polling client's goodbye waits out its long poll.
        await polling.client.eio.disconnect(abort=True)
        await polling.close()
        await upgraded.close()


async def test_a_client_gone_without_a_goodbye_is_disconnected(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    flow = await accepted(factory)
    caller, callee = await joined(live_url, flow)
    try:
        # The transport's socket dropped, as by a lost network: no Socket.IO disconnect packet.
        ws = caller.client.eio.ws
        assert ws is not None
        await ws.close()
        (left,) = await callee.wait_for("presence", where=lambda e: e["state"] == "left")
        assert left["user_id"] == flow.interviewer.id
        await until(lambda: len(eio_sockets(app)) == 1)
    finally:
        await caller.close()
        await callee.close()


class RecordingWebsocket:
    def __init__(self) -> None:
        self.sent: list[str] = []
        self.closed = False

    async def send(self, message: str) -> None:
        self.sent.append(message)

    async def close(self) -> None:
        self.closed = True


async def test_a_silent_websocket_client_is_closed_by_the_ping_check(app: FastAPI) -> None:
    eio = app.services.realtime.sio.eio
    socket = engine.DirectSocket(eio, "eio-silent")
    ws = RecordingWebsocket()
    socket.connected = socket.upgraded = True
    socket._ws = ws
    socket.last_ping = time.time() - eio.ping_timeout - 1  # pinged, and no pong since

    assert await socket.check_ping_timeout() is False

    assert socket.closed
    assert ws.closed
    assert socket._ws is None
