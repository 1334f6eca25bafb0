"""Each notification kind goes to the right people, exactly once (docs/api.md §9)."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from peerview.events import FeedbackSubmitted
from tests.factories import Factory
from tests.feedback.support import given
from tests.flow import accepted, completed, live, post_request
from tests.notifications.support import stored, sweep
from tests.session_questions.support import add, bank_question, remove, suggest


async def test_request_accepted_notifies_the_interviewee_once(
    factory: Factory, app: FastAPI
) -> None:
    flow = await accepted(factory)
    rows = await stored(app)
    assert [(r["kind"], r["user_id"]) for r in rows] == [("REQUEST_ACCEPTED", flow.interviewee.id)]
    assert rows[0]["session_id"] == flow.id
    assert rows[0]["request_id"] == flow.session["request_id"]
    assert flow.interviewer.name in rows[0]["body"]


async def test_request_expired_notifies_the_owner_once(factory: Factory, app: FastAPI) -> None:
    owner = await factory.interviewee()
    request = await post_request(factory, owner)
    factory.clock.advance(days=1)
    await sweep(app)
    await sweep(app)
    rows = await stored(app)
    assert [(r["kind"], r["user_id"], r["request_id"]) for r in rows] == [
        ("REQUEST_EXPIRED", owner.id, request["id"])
    ]


async def test_session_started_notifies_the_interviewee_only(
    factory: Factory, app: FastAPI
) -> None:
    flow = await live(factory)
    started = await stored(app, kind="SESSION_STARTED")
    assert [r["user_id"] for r in started] == [flow.interviewee.id]


async def test_extend_notifies_nobody(
    factory: Factory, app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    before = len(await stored(app))
    response = await client.post(
        f"/api/interview-sessions/{flow.id}/extend",
        json={"minutes": 5},
        headers=flow.interviewer.headers,
    )
    assert response.status_code == 200
    assert len(await stored(app)) == before


async def test_changing_a_sessions_questions_notifies_nobody(
    factory: Factory, app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    question, other = await bank_question(factory), await bank_question(factory)
    before = len(await stored(app))
    assert (await add(client, flow.interviewer, flow.id, question["id"])).status_code == 201
    assert (await suggest(client, flow.interviewer, flow.id, 1)).status_code == 201
    assert (await remove(client, flow.interviewer, flow.id, other["id"])).status_code == 204
    assert len(await stored(app)) == before


async def test_session_cancelled_by_interviewee_notifies_the_interviewer(
    factory: Factory, app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    response = await client.post(
        f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewee.headers
    )
    assert response.status_code == 200
    cancelled = await stored(app, kind="SESSION_CANCELLED")
    assert [r["user_id"] for r in cancelled] == [flow.interviewer.id]
    assert flow.interviewee.name in cancelled[0]["body"]


async def test_session_cancelled_by_interviewer_notifies_the_interviewee(
    factory: Factory, app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    response = await client.post(
        f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewer.headers
    )
    assert response.status_code == 200
    cancelled = await stored(app, kind="SESSION_CANCELLED")
    assert [r["user_id"] for r in cancelled] == [flow.interviewee.id]


async def test_no_show_notifies_both_participants(factory: Factory, app: FastAPI) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at + timedelta(hours=1))
    await sweep(app)
    cancelled = await stored(app, kind="SESSION_CANCELLED")
    assert sorted(r["user_id"] for r in cancelled) == sorted(
        [flow.interviewer.id, flow.interviewee.id]
    )
    assert all("not started in time" in r["body"] for r in cancelled)


async def test_session_ended_notifies_both_participants(factory: Factory, app: FastAPI) -> None:
    flow = await completed(factory)
    ended = await stored(app, kind="SESSION_ENDED")
    assert sorted(r["user_id"] for r in ended) == sorted([flow.interviewer.id, flow.interviewee.id])


async def test_auto_timeout_notifies_both_participants_once(factory: Factory, app: FastAPI) -> None:
    flow = await live(factory)
    factory.clock.advance(hours=3)
    await sweep(app)
    await sweep(app)
    ended = await stored(app, kind="SESSION_ENDED")
    assert sorted(r["user_id"] for r in ended) == sorted([flow.interviewer.id, flow.interviewee.id])


async def test_feedback_received_notifies_the_subject_and_keeps_it_sealed(
    factory: Factory, app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow = await completed(factory)
    feedback = await given(
        client, flow.interviewer, flow.id, comments="Secret remark: great recursion"
    )
    received = await stored(app, kind="FEEDBACK_RECEIVED")
    assert [r["user_id"] for r in received] == [flow.interviewee.id]
    assert received[0]["session_id"] == flow.id
    assert received[0]["dedupe_key"] == f"FEEDBACK_RECEIVED:{feedback['id']}:{flow.interviewee.id}"
    assert "Secret remark" not in received[0]["body"]
    assert "recursion" not in received[0]["title"] + received[0]["body"]


async def test_feedback_event_published_twice_creates_one_notification(
    factory: Factory, app: FastAPI
) -> None:
    flow = await completed(factory)
    event = FeedbackSubmitted(
        feedback_id="feedback-1",
        session_id=flow.id,
        author_id=flow.interviewee.id,
        subject_id=flow.interviewer.id,
        at=factory.clock.now(),
        session_created_at=factory.clock.now(),
        category="arrays",
        overall=4,
    )
    for _ in range(2):
        async with app.services.database.transaction() as db:
            await app.services.events.publish(db, event)
    received = await stored(app, kind="FEEDBACK_RECEIVED")
    assert [r["user_id"] for r in received] == [flow.interviewer.id]
