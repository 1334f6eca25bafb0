"""POST /api/interview-sessions/{id}/start: only the interviewer, not too early, end times set."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx

from peerview.events import SessionChanged
from tests import factories
from tests.factories import Factory
from tests.flow import Flow, accepted
from tests.lifecycle.support import record_events, session_row
from tests.platform.apps import assert_problem


async def start(
    factory: Factory, flow: Flow, user: factories.TestUser | None = None
) -> httpx.Response:
    return await factory.client.post(
        f"/api/interview-sessions/{flow.id}/start", headers=(user or flow.interviewer).headers
    )


def early(factory: Factory) -> timedelta:
    return timedelta(minutes=factory.app.services.settings.session_early_start_minutes)


async def test_interviewer_starts_a_scheduled_session(factory: Factory) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at)
    response = await start(factory, flow)
    assert response.status_code == 200, response.text
    session = response.json()
    assert session["status"] == "LIVE"
    assert datetime.fromisoformat(session["started_at"]) == factory.clock.now()
    assert (await session_row(factory.app, flow.id))["status"] == "LIVE"


async def test_start_computes_planned_and_hard_end(factory: Factory) -> None:
    flow = await accepted(factory, duration_minutes=45)
    started = flow.scheduled_at - timedelta(minutes=10)
    factory.clock.set(started)
    session = (await start(factory, flow)).json()
    hard_buffer = timedelta(minutes=factory.app.services.settings.session_hard_buffer_minutes)
    planned = started + timedelta(minutes=45)
    assert datetime.fromisoformat(session["planned_end_at"]) == planned
    assert datetime.fromisoformat(session["hard_end_at"]) == planned + hard_buffer
    assert session["ended_at"] is None
    assert session["end_reason"] is None


async def test_start_announces_started_once(factory: Factory) -> None:
    recorder = record_events(factory.app)
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at)
    await start(factory, flow)
    [event] = recorder.session_events(flow.id)
    assert isinstance(event, SessionChanged)
    assert (event.event, event.actor_id) == ("started", flow.interviewer.id)


async def test_start_by_the_interviewee_is_403_not_session_interviewer(factory: Factory) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at)
    assert_problem(await start(factory, flow, flow.interviewee), 403, "NOT_SESSION_INTERVIEWER")
    assert (await session_row(factory.app, flow.id))["status"] == "SCHEDULED"


async def test_start_before_the_early_start_window_is_409_too_early(factory: Factory) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at - early(factory) - timedelta(seconds=1))
    assert_problem(await start(factory, flow), 409, "TOO_EARLY")
    assert (await session_row(factory.app, flow.id))["status"] == "SCHEDULED"


async def test_start_exactly_at_the_early_start_boundary_is_allowed(factory: Factory) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at - early(factory))
    response = await start(factory, flow)
    assert response.status_code == 200, response.text


async def test_start_late_but_before_the_no_show_deadline_is_allowed(factory: Factory) -> None:
    flow = await accepted(factory)
    no_show = timedelta(minutes=factory.app.services.settings.no_show_minutes)
    factory.clock.set(flow.scheduled_at + no_show - timedelta(seconds=1))
    response = await start(factory, flow)
    assert response.status_code == 200, response.text


async def test_start_of_live_session_is_409_invalid_session_state(factory: Factory) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at)
    await start(factory, flow)
    assert_problem(await start(factory, flow), 409, "INVALID_SESSION_STATE")


async def test_start_of_cancelled_session_is_409_invalid_session_state(factory: Factory) -> None:
    flow = await accepted(factory)
    r = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewee.headers
    )
    assert r.status_code == 200, r.text
    factory.clock.set(flow.scheduled_at)
    assert_problem(await start(factory, flow), 409, "INVALID_SESSION_STATE")
