"""Joining a session's room, relaying signals to the other participant only, presence
(docs/api.md §8)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx

from tests.factories import Factory
from tests.flow import accepted, completed, live
from tests.realtime.support import Peer, peers, silently_revoke

OFFER = {"type": "offer", "sdp": "v=0 offer"}
ANSWER = {"type": "answer", "sdp": "v=0 answer"}
CANDIDATE = {"candidate": "candidate:1 1 udp 2122260223 10.0.0.1 50000 typ host", "sdpMid": "0"}


async def test_participant_join_is_acked_with_peers_and_session(
    live_url: str, factory: Factory
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as (one, two):
        first = await one.join(flow.id)
        assert first["ok"] is True
        assert first["peers"] == []
        assert first["session"]["id"] == flow.id
        assert first["session"]["status"] == "SCHEDULED"
        second = await two.join(flow.id)
        assert second["ok"] is True
        assert second["peers"] == [flow.interviewer.id]


async def test_join_ack_carries_ice_servers(live_url: str, factory: Factory) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewee.token) as (peer,):
        ack = await peer.join(flow.id)
    assert ack["ice_servers"] == [{"urls": ["stun:stun.l.google.com:19302"]}]


async def test_live_session_join_is_acked(live_url: str, factory: Factory) -> None:
    flow = await live(factory)
    async with peers(live_url, flow.interviewee.token) as (peer,):
        ack = await peer.join(flow.id)
    assert ack["ok"] is True
    assert ack["session"]["status"] == "LIVE"


async def test_third_user_join_is_refused_as_not_found(live_url: str, factory: Factory) -> None:
    flow = await accepted(factory)
    stranger = await factory.interviewer()
    admin = await factory.admin()
    async with peers(live_url, stranger.token, admin.token) as (outsider, watcher):
        assert await outsider.join(flow.id) == {"ok": False, "code": "SESSION_NOT_FOUND"}
        assert await watcher.join(flow.id) == {"ok": False, "code": "SESSION_NOT_FOUND"}


async def test_join_of_unknown_session_is_refused(live_url: str, factory: Factory) -> None:
    user = await factory.interviewee()
    async with peers(live_url, user.token) as (peer,):
        assert await peer.join("no-such-session") == {"ok": False, "code": "SESSION_NOT_FOUND"}


async def test_join_of_completed_session_is_refused(live_url: str, factory: Factory) -> None:
    flow = await completed(factory)
    async with peers(live_url, flow.interviewee.token) as (peer,):
        assert await peer.join(flow.id) == {"ok": False, "code": "INVALID_SESSION_STATE"}


async def test_join_of_session_timed_out_by_time_is_refused(
    live_url: str, factory: Factory
) -> None:
    flow = await live(factory)
    factory.clock.advance(hours=3)  # past hard_end_at: COMPLETED by read-time truth
    async with peers(live_url, flow.interviewer.token) as (peer,):
        assert await peer.join(flow.id) == {"ok": False, "code": "INVALID_SESSION_STATE"}


async def test_join_without_session_id_is_refused_as_invalid(
    live_url: str, factory: Factory
) -> None:
    user = await factory.interviewee()
    async with peers(live_url, user.token) as (peer,):
        assert await peer.call("join", {}) == {"ok": False, "code": "VALIDATION_ERROR"}
        assert await peer.call("join", "text") == {"ok": False, "code": "VALIDATION_ERROR"}


async def test_join_after_token_revoked_is_refused(live_url: str, factory: Factory) -> None:
    """A logout ends the token's sockets (tests/realtime/test_revocation.py); a join that
    crosses it, or follows a revocation this process was not told of, is refused too."""
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewee.token) as (peer,):
        await silently_revoke(factory.app, flow.interviewee.token)
        factory.app.services.realtime.cache.clear()
        assert await peer.join(flow.id) == {"ok": False, "code": "INVALID_TOKEN"}
        assert await peer.ended() == {"code": "INVALID_TOKEN", "reason": "revoked"}


async def test_signals_are_relayed_only_to_the_other_participant_with_from(
    live_url: str, factory: Factory
) -> None:
    flow = await accepted(factory)
    stranger = await factory.interviewee()
    tokens = (flow.interviewer.token, flow.interviewer.token, flow.interviewee.token)
    async with peers(live_url, *tokens, stranger.token) as (caller, caller_tab, callee, outsider):
        for peer in (caller, caller_tab, callee):
            assert (await peer.join(flow.id))["ok"]
        assert await caller.send_signal(flow.id, "offer", OFFER) == {"ok": True}
        assert await caller.send_signal(flow.id, "ice-candidate", CANDIDATE) == {"ok": True}
        assert await callee.send_signal(flow.id, "answer", ANSWER) == {"ok": True}

        received = await callee.wait_for("signal", 2)
        assert received == [
            {"session_id": flow.id, "from": flow.interviewer.id, "type": "offer", "data": OFFER},
            {
                "session_id": flow.id,
                "from": flow.interviewer.id,
                "type": "ice-candidate",
                "data": CANDIDATE,
            },
        ]
        for tab in (caller, caller_tab):
            answer = await tab.wait_for("signal", 1)
            assert answer == [
                {
                    "session_id": flow.id,
                    "from": flow.interviewee.id,
                    "type": "answer",
                    "data": ANSWER,
                }
            ]
        for peer in (caller, caller_tab, callee, outsider):
            await peer.barrier()
        # The sender's own other tab and a stranger never see the interviewer's signals.
        assert len(caller.received["signal"]) == 1
        assert len(caller_tab.received["signal"]) == 1
        assert len(callee.received["signal"]) == 2
        assert outsider.received["signal"] == []


async def test_signal_before_join_is_refused(live_url: str, factory: Factory) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as (one, two):
        assert (await two.join(flow.id))["ok"]
        refused = await one.send_signal(flow.id, "offer", OFFER)
        assert refused == {"ok": False, "code": "NOT_JOINED"}
        await two.barrier()
        assert two.received["signal"] == []


async def test_signal_of_unknown_type_is_refused(live_url: str, factory: Factory) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token) as (peer,):
        assert (await peer.join(flow.id))["ok"]
        refused = await peer.send_signal(flow.id, "renegotiate", OFFER)
        assert refused == {"ok": False, "code": "VALIDATION_ERROR"}


async def test_nothing_is_relayed_after_the_session_ended(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as (one, two):
        assert (await one.join(flow.id))["ok"]
        assert (await two.join(flow.id))["ok"]
        response = await client.post(
            f"/api/interview-sessions/{flow.id}/end", headers=flow.interviewer.headers
        )
        assert response.status_code == 200
        refused = await one.send_signal(flow.id, "offer", OFFER)
        assert refused == {"ok": False, "code": "INVALID_SESSION_STATE"}
        await two.barrier()
        assert two.received["signal"] == []


async def test_nothing_is_relayed_once_time_has_ended_the_session(
    live_url: str, factory: Factory
) -> None:
    flow = await live(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as (one, two):
        assert (await one.join(flow.id))["ok"]
        assert (await two.join(flow.id))["ok"]
        factory.clock.advance(hours=3)  # no sweeper has run: read-time truth decides
        refused = await two.send_signal(flow.id, "answer", ANSWER)
        assert refused == {"ok": False, "code": "INVALID_SESSION_STATE"}
        await one.barrier()
        assert one.received["signal"] == []


async def test_presence_joined_then_left_reaches_the_other_participant(
    live_url: str, factory: Factory
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token) as (stays,):
        assert (await stays.join(flow.id))["ok"]
        goes = await Peer(live_url, flow.interviewee.token).connect()
        try:
            assert (await goes.join(flow.id))["ok"]
            joined = await stays.wait_for("presence", 1)
            assert joined == [
                {"session_id": flow.id, "user_id": flow.interviewee.id, "state": "joined"}
            ]
        finally:
            await goes.close()
        events = await stays.wait_for("presence", 2)
        assert events[1] == {"session_id": flow.id, "user_id": flow.interviewee.id, "state": "left"}
        # A joiner is not told about themself.
        assert goes.received["presence"] == []


async def test_closing_one_of_two_tabs_is_not_leaving(live_url: str, factory: Factory) -> None:
    flow = await accepted(factory)
    tokens = (flow.interviewer.token, flow.interviewee.token, flow.interviewee.token)
    async with peers(live_url, *tokens) as (watcher, tab, other_tab):
        for peer in (watcher, tab, other_tab):
            assert (await peer.join(flow.id))["ok"]
        await tab.close()
        await watcher.barrier()
        await asyncio.sleep(0.05)  # the server handles the close on its own schedule
        await watcher.barrier()
        states = [e["state"] for e in watcher.received["presence"]]
        assert states == ["joined", "joined"]


async def test_disconnect_never_changes_the_session(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as (one, two):
        assert (await one.join(flow.id))["ok"]
        assert (await two.join(flow.id))["ok"]
        await one.close()
        await two.wait_for("presence", 1, where=lambda e: e["state"] == "left")
    factory.clock.advance(minutes=5)
    response = await client.get(
        f"/api/interview-sessions/{flow.id}", headers=flow.interviewee.headers
    )
    assert response.json()["status"] == "LIVE"
    assert response.json()["ended_at"] is None
    assert response.json()["hard_end_at"] == flow.session["hard_end_at"]


async def test_leave_emits_left_and_stops_signals(live_url: str, factory: Factory) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as (one, two):
        assert (await one.join(flow.id))["ok"]
        assert (await two.join(flow.id))["ok"]
        assert await two.call("leave", {"session_id": flow.id}) == {"ok": True}
        left = await one.wait_for("presence", 1, where=lambda e: e["state"] == "left")
        assert left[0]["user_id"] == flow.interviewee.id
        assert await two.send_signal(flow.id, "answer", ANSWER) == {
            "ok": False,
            "code": "NOT_JOINED",
        }


async def test_rejoining_after_scheduled_time_within_no_show_window_is_allowed(
    live_url: str, factory: Factory
) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at + timedelta(minutes=10))
    async with peers(live_url, flow.interviewee.token) as (peer,):
        assert (await peer.join(flow.id))["ok"]


async def test_socket_whose_token_expired_joins_and_relays_nothing(
    live_url: str, factory: Factory
) -> None:
    flow = await accepted(factory)
    short = factory.token_for(flow.interviewer.id, lifetime=timedelta(minutes=5))
    factory.app.services.realtime.revoker.expiry.check_seconds = (
        60  # so the watch does not come first
    )
    async with peers(live_url, short, flow.interviewee.token) as (expiring, other):
        assert (await expiring.join(flow.id))["ok"]
        assert (await other.join(flow.id))["ok"]
        factory.clock.advance(minutes=6)
        # Before the expiry watch's next look at the clock (tests/realtime/test_revocation.py):
        # refused, and the socket ends right after.
        assert await expiring.send_signal(flow.id, "offer", OFFER) == {
            "ok": False,
            "code": "INVALID_TOKEN",
        }
        assert await expiring.ended() == {"code": "INVALID_TOKEN", "reason": "expired"}
        await other.barrier()
        assert other.received["signal"] == []
