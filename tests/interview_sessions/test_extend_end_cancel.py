"""extend, end and cancel: who may, in which state, and what each one writes."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from tests.factories import Factory
from tests.flow import Flow, accepted, completed, live
from tests.lifecycle.support import record_events, session_row
from tests.platform.apps import assert_problem


async def act(
    factory: Factory,
    flow: Flow,
    action: str,
    user: factories.TestUser | None = None,
    body: Any = None,
) -> httpx.Response:
    return await factory.client.post(
        f"/api/interview-sessions/{flow.id}/{action}",
        json=body,
        headers=(user or flow.interviewer).headers,
    )


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


# extend


async def test_extend_moves_both_end_times(factory: Factory) -> None:
    flow = await live(factory)
    response = await act(factory, flow, "extend", body={"minutes": 20})
    assert response.status_code == 200, response.text
    session = response.json()
    assert session["extended_minutes"] == 20
    assert at(session["planned_end_at"]) == at(flow.session["planned_end_at"]) + timedelta(
        minutes=20
    )
    assert at(session["hard_end_at"]) == at(flow.session["hard_end_at"]) + timedelta(minutes=20)
    assert session["status"] == "LIVE"


@pytest.mark.parametrize("minutes", [0, 61, -5])
async def test_extend_outside_1_to_60_is_422(factory: Factory, minutes: int) -> None:
    flow = await live(factory)
    problem = assert_problem(
        await act(factory, flow, "extend", body={"minutes": minutes}), 422, "VALIDATION_ERROR"
    )
    assert [e["field"] for e in problem["errors"]] == ["minutes"]


async def test_extend_without_minutes_is_422(factory: Factory) -> None:
    flow = await live(factory)
    assert_problem(await act(factory, flow, "extend", body={}), 422, "VALIDATION_ERROR")


async def test_extend_by_60_at_once_is_allowed(factory: Factory) -> None:
    flow = await live(factory)
    response = await act(factory, flow, "extend", body={"minutes": 60})
    assert response.status_code == 200, response.text
    assert response.json()["extended_minutes"] == 60


async def test_extend_up_to_exactly_60_in_total_is_allowed(factory: Factory) -> None:
    flow = await live(factory)
    for minutes in (25, 25, 10):
        response = await act(factory, flow, "extend", body={"minutes": minutes})
        assert response.status_code == 200, response.text
    assert response.json()["extended_minutes"] == 60


async def test_extend_past_60_in_total_is_409_extension_limit(factory: Factory) -> None:
    flow = await live(factory)
    r = await act(factory, flow, "extend", body={"minutes": 30})
    assert r.status_code == 200, r.text
    assert_problem(await act(factory, flow, "extend", body={"minutes": 31}), 409, "EXTENSION_LIMIT")
    r = await act(factory, flow, "extend", body={"minutes": 30})
    assert r.status_code == 200, r.text
    assert_problem(await act(factory, flow, "extend", body={"minutes": 1}), 409, "EXTENSION_LIMIT")
    row = await session_row(factory.app, flow.id)
    assert row["extended_minutes"] == 60
    assert row["planned_end_at"] == at(flow.session["planned_end_at"]) + timedelta(minutes=60)


async def test_extend_of_scheduled_session_is_409_invalid_session_state(factory: Factory) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at)
    assert_problem(
        await act(factory, flow, "extend", body={"minutes": 10}), 409, "INVALID_SESSION_STATE"
    )


async def test_extend_of_completed_session_is_409_invalid_session_state(factory: Factory) -> None:
    flow = await completed(factory)
    assert_problem(
        await act(factory, flow, "extend", body={"minutes": 10}), 409, "INVALID_SESSION_STATE"
    )


async def test_extend_by_the_interviewee_is_403_not_session_interviewer(factory: Factory) -> None:
    flow = await live(factory)
    response = await act(factory, flow, "extend", flow.interviewee, {"minutes": 10})
    assert_problem(response, 403, "NOT_SESSION_INTERVIEWER")
    assert (await session_row(factory.app, flow.id))["extended_minutes"] == 0


async def test_extend_announces_extended(factory: Factory) -> None:
    flow = await live(factory)
    recorder = record_events(factory.app)
    await act(factory, flow, "extend", body={"minutes": 5})
    assert [e.event for e in recorder.session_events(flow.id)] == ["extended"]


# end


async def test_end_completes_a_live_session_ended_by_interviewer(factory: Factory) -> None:
    flow = await live(factory)
    factory.clock.advance(minutes=40)
    response = await act(factory, flow, "end")
    assert response.status_code == 200, response.text
    session = response.json()
    assert (session["status"], session["end_reason"]) == ("COMPLETED", "ENDED_BY_INTERVIEWER")
    assert at(session["ended_at"]) == factory.clock.now()
    row = await session_row(factory.app, flow.id)
    assert (row["status"], row["end_reason"], row["ended_at"]) == (
        "COMPLETED",
        "ENDED_BY_INTERVIEWER",
        factory.clock.now(),
    )


async def test_end_of_scheduled_session_is_409_invalid_session_state(factory: Factory) -> None:
    flow = await accepted(factory)
    assert_problem(await act(factory, flow, "end"), 409, "INVALID_SESSION_STATE")


async def test_end_twice_is_409_invalid_session_state(factory: Factory) -> None:
    flow = await completed(factory)
    assert_problem(await act(factory, flow, "end"), 409, "INVALID_SESSION_STATE")


async def test_end_by_the_interviewee_is_403_not_session_interviewer(factory: Factory) -> None:
    flow = await live(factory)
    assert_problem(
        await act(factory, flow, "end", flow.interviewee), 403, "NOT_SESSION_INTERVIEWER"
    )
    assert (await session_row(factory.app, flow.id))["status"] == "LIVE"


async def test_end_announces_ended_once(factory: Factory) -> None:
    flow = await live(factory)
    recorder = record_events(factory.app)
    await act(factory, flow, "end")
    [event] = recorder.session_events(flow.id)
    assert (event.event, event.end_reason) == ("ended", "ENDED_BY_INTERVIEWER")


# cancel


async def test_interviewer_cancels_scheduled_session(factory: Factory) -> None:
    flow = await accepted(factory)
    response = await act(factory, flow, "cancel", body={"reason": "ill"})
    assert response.status_code == 200, response.text
    session = response.json()
    assert (session["status"], session["end_reason"]) == ("CANCELLED", "CANCELLED_BY_INTERVIEWER")
    assert at(session["ended_at"]) == factory.clock.now()
    row = await session_row(factory.app, flow.id)
    assert (row["status"], row["cancel_reason"]) == ("CANCELLED", "ill")


async def test_interviewee_cancels_scheduled_session(factory: Factory) -> None:
    flow = await accepted(factory)
    response = await act(factory, flow, "cancel", flow.interviewee)
    assert response.status_code == 200, response.text
    assert (response.json()["status"], response.json()["end_reason"]) == (
        "CANCELLED",
        "CANCELLED_BY_INTERVIEWEE",
    )


async def test_cancel_of_live_session_is_409_invalid_session_state(factory: Factory) -> None:
    flow = await live(factory)
    for user in (flow.interviewer, flow.interviewee):
        assert_problem(await act(factory, flow, "cancel", user), 409, "INVALID_SESSION_STATE")
    assert (await session_row(factory.app, flow.id))["status"] == "LIVE"


async def test_cancel_twice_is_409_invalid_session_state(factory: Factory) -> None:
    flow = await accepted(factory)
    await act(factory, flow, "cancel")
    assert_problem(
        await act(factory, flow, "cancel", flow.interviewee), 409, "INVALID_SESSION_STATE"
    )


async def test_cancel_with_unknown_field_is_422(factory: Factory) -> None:
    flow = await accepted(factory)
    assert_problem(
        await act(factory, flow, "cancel", body={"status": "LIVE"}), 422, "VALIDATION_ERROR"
    )
    assert (await session_row(factory.app, flow.id))["status"] == "SCHEDULED"


async def test_cancel_reason_over_500_chars_is_422(factory: Factory) -> None:
    flow = await accepted(factory)
    assert_problem(
        await act(factory, flow, "cancel", body={"reason": "r" * 501}), 422, "VALIDATION_ERROR"
    )


async def test_cancel_announces_cancelled(factory: Factory) -> None:
    flow = await accepted(factory)
    recorder = record_events(factory.app)
    await act(factory, flow, "cancel", flow.interviewee)
    [event] = recorder.session_events(flow.id)
    assert (event.event, event.end_reason, event.actor_id) == (
        "cancelled",
        "CANCELLED_BY_INTERVIEWEE",
        flow.interviewee.id,
    )


async def test_extend_input_is_checked_before_visibility(factory: Factory) -> None:
    flow = await live(factory)
    stranger = await factory.interviewee()
    response = await act(factory, flow, "extend", stranger, {"minutes": 0})
    assert_problem(response, 422, "VALIDATION_ERROR")
    response = await act(factory, flow, "extend", stranger, {"minutes": 5})
    assert_problem(response, 404, "SESSION_NOT_FOUND")
