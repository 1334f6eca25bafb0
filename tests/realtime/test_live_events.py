"""`session` events: one per lifecycle change on every socket of both participants
(docs/api.md §8)."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from peerview.jobs.sweeper import sweep_once
from tests.factories import Factory, TestUser
from tests.flow import Flow, accepted, live
from tests.realtime.support import exactly_one, peers
from tests.session_questions.support import add, bank_question


async def act(
    client: httpx.AsyncClient, flow: Flow, user: TestUser, action: str, **body: Any
) -> None:
    response = await client.post(
        f"/api/interview-sessions/{flow.id}/{action}", json=body or None, headers=user.headers
    )
    assert response.status_code == 200, response.text


async def test_start_extend_end_each_push_one_session_event_to_both(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as both:
        factory.clock.set(flow.scheduled_at)
        await act(client, flow, flow.interviewer, "start")
        for peer in both:
            event = await exactly_one(peer, "started")
            assert event["session"]["id"] == flow.id
            assert event["session"]["status"] == "LIVE"

        await act(client, flow, flow.interviewer, "extend", minutes=10)
        for peer in both:
            event = await exactly_one(peer, "extended")
            assert event["session"]["extended_minutes"] == 10

        factory.clock.advance(minutes=30)
        await act(client, flow, flow.interviewer, "end")
        for peer in both:
            event = await exactly_one(peer, "ended")
            assert event["session"]["status"] == "COMPLETED"
            assert event["session"]["end_reason"] == "ENDED_BY_INTERVIEWER"
            assert [e["event"] for e in peer.received["session"]] == [
                "started",
                "extended",
                "ended",
            ]


async def test_cancel_pushes_one_session_event_to_both(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as both:
        await act(client, flow, flow.interviewee, "cancel", reason="Clash")
        for peer in both:
            event = await exactly_one(peer, "cancelled")
            assert event["session"]["end_reason"] == "CANCELLED_BY_INTERVIEWEE"


async def test_sweeper_auto_timeout_pushes_one_session_event_to_both(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    flow = await live(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as both:
        factory.clock.advance(hours=3)
        result = await sweep_once(
            database=app.services.database,
            clock=factory.clock,
            settings=app.services.settings,
            events=app.services.events,
            notifier=app.services.notifier,
        )
        assert [r.id for r in result.auto_timed_out] == [flow.id]
        for peer in both:
            event = await exactly_one(peer, "ended")
            assert event["session"]["end_reason"] == "AUTO_TIMEOUT"


async def test_sweeper_no_show_pushes_one_cancelled_event_to_both(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as both:
        factory.clock.set(flow.scheduled_at)
        factory.clock.advance(hours=1)
        await sweep_once(
            database=app.services.database,
            clock=factory.clock,
            settings=app.services.settings,
            events=app.services.events,
            notifier=app.services.notifier,
        )
        for peer in both:
            event = await exactly_one(peer, "cancelled")
            assert event["session"]["end_reason"] == "NO_SHOW"


async def test_every_socket_of_a_participant_gets_the_event_whether_joined_or_not(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    tokens = (flow.interviewee.token, flow.interviewee.token)
    async with peers(live_url, *tokens) as (in_room, dashboard):
        assert (await in_room.join(flow.id))["ok"]
        await act(client, flow, flow.interviewer, "cancel")
        for peer in (in_room, dashboard):
            await exactly_one(peer, "cancelled")


async def test_session_events_reach_nobody_else(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    stranger = await factory.interviewer()
    async with peers(live_url, stranger.token, flow.interviewee.token) as (outsider, insider):
        await act(client, flow, flow.interviewer, "cancel")
        await exactly_one(insider, "cancelled")
        await outsider.barrier()
        assert outsider.received["session"] == []


async def test_interviewee_session_event_never_carries_hints_or_solution(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    question = await bank_question(factory)
    response = await add(client, flow.interviewer, flow.id, question["id"])
    assert response.status_code == 201, response.text
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as (er, ee):
        factory.clock.set(flow.scheduled_at)
        await act(client, flow, flow.interviewer, "start")
        interviewer_view = (await exactly_one(er, "started"))["session"]["questions"][0]
        interviewee_view = (await exactly_one(ee, "started"))["session"]["questions"][0]
    assert interviewer_view["hints"] == question["hints"]
    assert interviewer_view["solution"] == question["solution"]
    assert "hints" not in interviewee_view
    assert "solution" not in interviewee_view
    assert interviewee_view["prompt"] == question["prompt"]


async def test_a_failed_action_pushes_nothing(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token) as (peer,):
        response = await client.post(
            f"/api/interview-sessions/{flow.id}/start", headers=flow.interviewer.headers
        )
        assert response.status_code == 409  # TOO_EARLY: the day before
        await peer.barrier()
        assert peer.received["session"] == []


async def test_nothing_is_pushed_when_the_transaction_rolls_back(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    flow = await accepted(factory)

    async def fail(db: Any, events: Any) -> None:
        raise RuntimeError("a later subscriber fails: the whole change rolls back")

    app.services.events.subscribe(in_transaction=fail)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as failing,
        peers(live_url, flow.interviewer.token, flow.interviewee.token) as both,
    ):
        response = await failing.post(
            f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewee.headers
        )
        assert response.status_code == 500
        for peer in both:
            await peer.barrier()
            assert peer.received["session"] == []
            assert peer.received["notification"] == []
