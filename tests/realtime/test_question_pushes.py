"""`session` pushes of session questions: each committed change of the list reaches every socket
of both participants once, as each sees the session, and nobody else (docs/api.md §5.6, §8.3)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from peerview.events import SessionChanged
from tests.factories import Factory, TestUser
from tests.flow import Flow, accepted, completed, live
from tests.realtime.support import Peer, exactly_one, peers
from tests.session_questions.support import add, bank_question, remove, suggest


async def rest_view(client: httpx.AsyncClient, flow: Flow, user: TestUser) -> Any:
    response = await client.get(f"/api/interview-sessions/{flow.id}", headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def nothing_pushed(*sockets: Peer) -> None:
    for peer in sockets:
        await peer.barrier()
        assert peer.received["session"] == [], peer.received["session"]


async def test_an_added_question_is_pushed_to_both_as_each_sees_the_session(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    question = await bank_question(factory)
    tokens = (flow.interviewer.token, flow.interviewee.token, flow.interviewee.token)
    async with peers(live_url, *tokens) as (er, ee_in_room, ee_elsewhere):
        assert (await ee_in_room.join(flow.id))["ok"]
        response = await add(client, flow.interviewer, flow.id, question["id"])
        assert response.status_code == 201, response.text

        interviewer_view = (await exactly_one(er, "questions"))["session"]
        assert interviewer_view == await rest_view(client, flow, flow.interviewer)
        [full] = interviewer_view["questions"]
        assert full["hints"] == question["hints"]
        assert full["solution"] == question["solution"]

        interviewee_rest = await rest_view(client, flow, flow.interviewee)
        for socket_ in (ee_in_room, ee_elsewhere):  # joined to the room or not
            interviewee_view = (await exactly_one(socket_, "questions"))["session"]
            assert interviewee_view == interviewee_rest
            [brief] = interviewee_view["questions"]
            assert brief["prompt"] == question["prompt"]
            assert "hints" not in brief
            assert "solution" not in brief


async def test_a_suggestion_is_pushed_once_with_the_whole_list(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    first, second = await bank_question(factory), await bank_question(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as both:
        response = await suggest(client, flow.interviewer, flow.id, 5)
        assert response.status_code == 201, response.text
        for peer in both:
            event = await exactly_one(peer, "questions")
            titles = [q["title"] for q in event["session"]["questions"]]
            assert titles == [first["title"], second["title"]]
        er, ee = both
        assert "hints" not in ee.received["session"][0]["session"]["questions"][0]
        assert er.received["session"][0]["session"]["questions"][0]["hints"] == first["hints"]


async def test_a_suggestion_that_adds_nothing_pushes_nothing(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as both:
        response = await suggest(client, flow.interviewer, flow.id, 3)  # the bank is empty
        assert response.status_code == 201, response.text
        assert response.json()["items"] == []
        await nothing_pushed(*both)


async def test_a_removed_question_is_pushed_to_both(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    kept, dropped = await bank_question(factory), await bank_question(factory)
    for question in (kept, dropped):
        assert (await add(client, flow.interviewer, flow.id, question["id"])).status_code == 201
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as both:
        response = await remove(client, flow.interviewer, flow.id, dropped["id"])
        assert response.status_code == 204, response.text
        for peer in both:
            event = await exactly_one(peer, "questions")
            assert [(q["question_id"], q["position"]) for q in event["session"]["questions"]] == [
                (kept["id"], 1)
            ]


async def test_question_pushes_follow_the_lifecycle_pushes_in_order(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    question = await bank_question(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as both:
        factory.clock.set(flow.scheduled_at)
        started = await client.post(
            f"/api/interview-sessions/{flow.id}/start", headers=flow.interviewer.headers
        )
        assert started.status_code == 200, started.text
        assert (await add(client, flow.interviewer, flow.id, question["id"])).status_code == 201
        assert (await remove(client, flow.interviewer, flow.id, question["id"])).status_code == 204
        for peer in both:
            await peer.wait_for("session", 3)
            await peer.barrier()
            events = peer.received["session"]
            assert [e["event"] for e in events] == ["started", "questions", "questions"]
            assert [len(e["session"]["questions"]) for e in events] == [0, 1, 0]


async def test_question_pushes_reach_nobody_else_admins_included(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    stranger, admin = await factory.interviewer(), await factory.admin()
    question = await bank_question(factory)
    async with peers(live_url, flow.interviewer.token, stranger.token, admin.token) as sockets:
        er, outsider, admin_socket = sockets
        assert (await add(client, flow.interviewer, flow.id, question["id"])).status_code == 201
        await exactly_one(er, "questions")
        await nothing_pushed(outsider, admin_socket)


async def test_a_refused_question_change_pushes_nothing(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    present, absent = await bank_question(factory), await bank_question(factory)
    assert (await add(client, flow.interviewer, flow.id, present["id"])).status_code == 201
    stranger, admin = await factory.interviewer(), await factory.admin()
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as both:
        refusals = [
            (add(client, flow.interviewee, flow.id, absent["id"]), 403),
            (suggest(client, flow.interviewee, flow.id, 1), 403),
            (remove(client, flow.interviewee, flow.id, present["id"]), 403),
            (add(client, stranger, flow.id, absent["id"]), 404),
            (add(client, admin, flow.id, absent["id"]), 404),
            (remove(client, admin, flow.id, present["id"]), 404),
            (add(client, flow.interviewer, flow.id, "no-such-question"), 404),
            (add(client, flow.interviewer, flow.id, present["id"]), 409),
            (remove(client, flow.interviewer, flow.id, absent["id"]), 404),
        ]
        for call, status in refusals:
            response = await call
            assert response.status_code == status, response.text
        await nothing_pushed(*both)


async def test_a_finished_session_refuses_changes_and_pushes_nothing(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await completed(factory)
    question = await bank_question(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as both:
        for response in (
            await add(client, flow.interviewer, flow.id, question["id"]),
            await suggest(client, flow.interviewer, flow.id, 1),
        ):
            assert response.status_code == 409, response.text
        await nothing_pushed(*both)


async def test_nothing_is_pushed_when_a_question_change_rolls_back(
    live_url: str, factory: Factory, app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    question = await bank_question(factory)

    async def fail(db: Any, events: Any) -> None:
        raise RuntimeError("a later subscriber fails: the whole change rolls back")

    app.services.events.subscribe(in_transaction=fail)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as failing,
        peers(live_url, flow.interviewer.token, flow.interviewee.token) as both,
    ):
        response = await add(failing, flow.interviewer, flow.id, question["id"])
        assert response.status_code == 500
        await nothing_pushed(*both)
    assert (await rest_view(client, flow, flow.interviewer))["questions"] == []


async def test_other_processes_are_told_of_a_question_change_without_waiting_for_them(
    factory: Factory, app: FastAPI, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Their relay caches hold no question: the REST answer need not wait for them to hear."""
    flow = await live(factory)
    question = await bank_question(factory)
    announced: list[tuple[str, bool]] = []

    class Bus:
        async def announce(self, *, session: SessionChanged, wait: bool = True) -> None:
            announced.append((session.event, wait))

    monkeypatch.setattr(app.services.realtime, "bus", Bus())
    assert (await add(client, flow.interviewer, flow.id, question["id"])).status_code == 201
    factory.clock.advance(minutes=10)
    ended = await client.post(
        f"/api/interview-sessions/{flow.id}/end", headers=flow.interviewer.headers
    )
    assert ended.status_code == 200, ended.text
    assert announced == [("questions", False), ("ended", True)]
