"""POST /api/feedback: participants of a completed session, once each (docs/api.md §7)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from peerview.config import Settings
from peerview.db import Connection
from peerview.events import FeedbackSubmitted
from peerview.models import InterviewSession
from peerview.models.base import table_of
from tests.factories import Factory
from tests.feedback.support import (
    FULL_FIELDS,
    RATINGS,
    feedback_table,
    give,
    given,
    stored_count,
)
from tests.flow import accepted, completed, live
from tests.lifecycle.support import session_row
from tests.platform.apps import assert_problem
from tests.support.sql import execute


async def test_participant_leaves_feedback_about_the_other(factory: Factory) -> None:
    flow = await completed(factory)
    response = await give(factory.client, flow.interviewer, flow.id, comments="Great pace.")
    assert response.status_code == 201, response.text
    created = response.json()
    assert set(created) == FULL_FIELDS
    assert created["session_id"] == flow.id
    assert created["author"] == {"id": flow.interviewer.id, "name": flow.interviewer.name}
    assert created["subject"] == {"id": flow.interviewee.id, "name": flow.interviewee.name}
    assert created["author_role"] == "INTERVIEWER"
    assert created["ratings"] == RATINGS
    assert created["comments"] == "Great pace."
    assert datetime.fromisoformat(created["created_at"]) == factory.clock.now()
    assert await stored_count(factory, flow.id) == 1


async def test_interviewee_feedback_is_about_the_interviewer(factory: Factory) -> None:
    flow = await completed(factory)
    created = await given(factory.client, flow.interviewee, flow.id)
    assert created["author"]["id"] == flow.interviewee.id
    assert created["subject"] == {"id": flow.interviewer.id, "name": flow.interviewer.name}
    assert created["author_role"] == "INTERVIEWEE"


async def test_author_role_is_the_role_in_the_session_not_the_account_role(
    factory: Factory,
) -> None:
    flow = await completed(factory)
    admin = await factory.admin()
    changed = await factory.client.patch(
        f"/api/users/{flow.interviewer.id}", json={"role": "INTERVIEWEE"}, headers=admin.headers
    )
    assert changed.status_code == 200, changed.text
    created = await given(factory.client, flow.interviewer, flow.id)
    assert created["author_role"] == "INTERVIEWER"


async def test_each_participant_leaves_their_own_feedback(factory: Factory) -> None:
    flow = await completed(factory)
    await given(factory.client, flow.interviewer, flow.id)
    await given(factory.client, flow.interviewee, flow.id)
    assert await stored_count(factory, flow.id) == 2


async def test_comments_are_optional(factory: Factory) -> None:
    flow = await completed(factory)
    response = await factory.client.post(
        "/api/feedback",
        json={"session_id": flow.id, "ratings": RATINGS},
        headers=flow.interviewee.headers,
    )
    assert response.status_code == 201, response.text
    assert response.json()["comments"] == ""


async def test_comments_of_5000_characters_are_accepted(factory: Factory) -> None:
    flow = await completed(factory)
    created = await given(factory.client, flow.interviewee, flow.id, comments="x" * 5000)
    assert len(created["comments"]) == 5000


async def test_comments_over_5000_characters_are_422(factory: Factory) -> None:
    flow = await completed(factory)
    response = await give(factory.client, flow.interviewee, flow.id, comments="x" * 5001)
    assert_problem(response, 422, "VALIDATION_ERROR")
    assert await stored_count(factory, flow.id) == 0


@pytest.mark.parametrize("value", [0, 6, -1, 4.5, 4.0, "4", True, None])
async def test_each_rating_must_be_an_integer_from_1_to_5(factory: Factory, value: Any) -> None:
    flow = await completed(factory)
    for name in RATINGS:
        response = await give(
            factory.client, flow.interviewee, flow.id, ratings={**RATINGS, name: value}
        )
        body = assert_problem(response, 422, "VALIDATION_ERROR")
        assert any(e["field"] == f"ratings.{name}" for e in body["errors"]), body
    assert await stored_count(factory, flow.id) == 0


@pytest.mark.parametrize("rating", [1, 5])
async def test_ratings_1_and_5_are_accepted(factory: Factory, rating: int) -> None:
    flow = await completed(factory)
    ratings = dict.fromkeys(RATINGS, rating)
    created = await given(factory.client, flow.interviewee, flow.id, ratings=ratings)
    assert created["ratings"] == ratings


async def test_missing_rating_is_422(factory: Factory) -> None:
    flow = await completed(factory)
    partial = {k: v for k, v in RATINGS.items() if k != "technical"}
    response = await give(factory.client, flow.interviewee, flow.id, ratings=partial)
    assert_problem(response, 422, "VALIDATION_ERROR")


@pytest.mark.parametrize(
    "extra",
    [
        {"author_role": "INTERVIEWER"},
        {"subject_id": "someone"},
        {"created_at": "2030-01-01T00:00Z"},
    ],
)
async def test_unknown_fields_are_422(factory: Factory, extra: dict[str, str]) -> None:
    flow = await completed(factory)
    response = await give(factory.client, flow.interviewee, flow.id, **extra)
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_unknown_rating_field_is_422(factory: Factory) -> None:
    flow = await completed(factory)
    ratings = {**RATINGS, "punctuality": 5}
    response = await give(factory.client, flow.interviewee, flow.id, ratings=ratings)
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_feedback_on_a_scheduled_session_is_409_session_not_completed(
    factory: Factory,
) -> None:
    flow = await accepted(factory)
    response = await give(factory.client, flow.interviewee, flow.id)
    assert_problem(response, 409, "SESSION_NOT_COMPLETED")
    assert await stored_count(factory, flow.id) == 0


async def test_feedback_on_a_live_session_is_409_session_not_completed(factory: Factory) -> None:
    flow = await live(factory)
    factory.clock.set(datetime.fromisoformat(flow.session["hard_end_at"]) - timedelta(seconds=1))
    response = await give(factory.client, flow.interviewer, flow.id)
    assert_problem(response, 409, "SESSION_NOT_COMPLETED")


async def test_feedback_on_a_cancelled_session_is_409_session_not_completed(
    factory: Factory,
) -> None:
    flow = await accepted(factory)
    cancel = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewer.headers
    )
    assert cancel.status_code == 200, cancel.text
    response = await give(factory.client, flow.interviewee, flow.id)
    assert_problem(response, 409, "SESSION_NOT_COMPLETED")


async def test_feedback_on_a_no_show_session_is_409_session_not_completed(
    factory: Factory, settings: Settings
) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at + timedelta(minutes=settings.no_show_minutes, hours=1))
    response = await give(factory.client, flow.interviewee, flow.id)
    assert_problem(response, 409, "SESSION_NOT_COMPLETED")


async def test_timed_out_session_accepts_feedback_without_the_sweeper(factory: Factory) -> None:
    flow = await live(factory)
    factory.clock.set(datetime.fromisoformat(flow.session["hard_end_at"]))
    response = await give(factory.client, flow.interviewee, flow.id)
    assert response.status_code == 201, response.text
    # The stored row still says LIVE: the read-time rule, not the sweeper, decided.
    sessions = table_of(InterviewSession)
    async with factory.app.services.database.transaction(write=False) as db:
        result = await execute(db, select(sessions.c.status).where(sessions.c.id == flow.id))
        assert result.scalar_one() == "LIVE"


async def test_second_feedback_by_the_same_author_is_409_feedback_exists(
    factory: Factory,
) -> None:
    flow = await completed(factory)
    first = await given(factory.client, flow.interviewee, flow.id)
    response = await give(factory.client, flow.interviewee, flow.id, comments="Changed my mind.")
    assert_problem(response, 409, "FEEDBACK_EXISTS")
    assert await stored_count(factory, flow.id) == 1
    async with factory.app.services.database.transaction(write=False) as db:
        result = await execute(db, select(feedback_table.c.id, feedback_table.c.comments))
        assert [tuple(r) for r in result] == [(first["id"], first["comments"])]


async def test_third_user_gets_404_session_not_found(factory: Factory) -> None:
    flow = await completed(factory)
    for outsider in (await factory.interviewer(), await factory.interviewee()):
        response = await give(factory.client, outsider, flow.id)
        assert_problem(response, 404, "SESSION_NOT_FOUND")
    assert await stored_count(factory, flow.id) == 0


async def test_admin_outside_the_session_cannot_leave_feedback(factory: Factory) -> None:
    flow = await completed(factory)
    response = await give(factory.client, await factory.admin(), flow.id)
    assert_problem(response, 404, "SESSION_NOT_FOUND")


async def test_unknown_session_is_404_session_not_found(factory: Factory) -> None:
    user = await factory.interviewee()
    response = await give(factory.client, user, "no-such-session")
    assert_problem(response, 404, "SESSION_NOT_FOUND")


async def test_unauthenticated_is_401_before_input_is_checked(factory: Factory) -> None:
    response = await factory.client.post("/api/feedback", json={"ratings": "bad"})
    assert_problem(response, 401)


async def test_invalid_input_is_422_before_visibility(factory: Factory) -> None:
    flow = await completed(factory)
    outsider = await factory.interviewer()
    bad = {**RATINGS, "overall": 9}
    response = await give(factory.client, outsider, flow.id, ratings=bad)
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_visibility_is_checked_before_state(factory: Factory) -> None:
    flow = await accepted(factory)
    response = await give(factory.client, await factory.interviewer(), flow.id)
    assert_problem(response, 404, "SESSION_NOT_FOUND")


async def test_submission_publishes_feedback_submitted_in_the_transaction(
    factory: Factory,
) -> None:
    flow = await completed(factory)
    seen_in_transaction: list[tuple[FeedbackSubmitted, int]] = []
    after_commit: list[FeedbackSubmitted] = []

    async def on_events(db: Connection, events: Sequence[Any]) -> None:
        for event in events:
            if isinstance(event, FeedbackSubmitted):
                rows = await execute(
                    db,
                    select(feedback_table.c.id).where(feedback_table.c.id == event.feedback_id),
                )
                seen_in_transaction.append((event, len(rows.all())))

    async def on_commit(event: Any) -> None:
        if isinstance(event, FeedbackSubmitted):
            after_commit.append(event)

    factory.app.services.events.subscribe(in_transaction=on_events, after_commit=on_commit)
    created = await given(factory.client, flow.interviewee, flow.id)
    expected = FeedbackSubmitted(
        feedback_id=created["id"],
        session_id=flow.id,
        author_id=flow.interviewee.id,
        subject_id=flow.interviewer.id,
        at=factory.clock.now(),
        session_created_at=(await session_row(factory.app, flow.id))["created_at"],
        category=flow.session["category"],
        overall=created["ratings"]["overall"],
    )
    # Published once, after the row was written, on the request's own connection.
    assert seen_in_transaction == [(expected, 1)]
    assert after_commit == [expected]


async def test_refused_submission_publishes_nothing(factory: Factory) -> None:
    flow = await completed(factory)
    await given(factory.client, flow.interviewee, flow.id)
    published: list[Any] = []

    async def record(_: Connection, events: Sequence[Any]) -> None:
        published.extend(events)

    async def record_late(event: Any) -> None:
        published.append(event)

    factory.app.services.events.subscribe(in_transaction=record, after_commit=record_late)
    assert (await give(factory.client, flow.interviewee, flow.id)).status_code == 409
    assert (await give(factory.client, await factory.interviewee(), flow.id)).status_code == 404
    assert published == []
