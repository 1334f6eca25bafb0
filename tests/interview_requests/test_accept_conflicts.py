"""SCHEDULE_CONFLICT: an interviewer cannot hold two sessions that overlap in time.

These tests use a 15-minute expiry buffer, so that a request can still be accepted
while an earlier session of the same interviewer is live or has just been missed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from peerview.config import Settings
from tests import factories
from tests.factories import Factory
from tests.flow import accepted, post_request
from tests.lifecycle.support import session_row
from tests.platform.apps import assert_problem

DAY = timedelta(days=1)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"request_expiry_buffer_hours": 0.25})


async def accept_at(
    factory: Factory, interviewer: factories.TestUser, when: datetime, minutes: int = 60
) -> int:
    """Post a request at `when` for `minutes` and let `interviewer` accept it: the status."""
    posted = await post_request(
        factory,
        await factory.interviewee(),
        scheduled_in=when - factory.clock.now(),
        duration_minutes=minutes,
    )
    response = await factory.client.post(
        f"/api/interview-requests/{posted['id']}/accept", headers=interviewer.headers
    )
    if response.status_code != 201:
        assert_problem(response, 409, "SCHEDULE_CONFLICT")
    return response.status_code


async def test_overlapping_scheduled_session_is_409_schedule_conflict(factory: Factory) -> None:
    flow = await accepted(factory, scheduled_in=DAY)
    t = flow.scheduled_at
    assert await accept_at(factory, flow.interviewer, t + timedelta(minutes=30)) == 409
    assert await accept_at(factory, flow.interviewer, t - timedelta(minutes=30)) == 409
    assert await accept_at(factory, flow.interviewer, t) == 409
    assert await accept_at(factory, flow.interviewer, t - timedelta(minutes=30), 180) == 409
    assert await accept_at(factory, flow.interviewer, t + timedelta(minutes=15), 15) == 409


async def test_adjacent_slots_do_not_conflict(factory: Factory) -> None:
    flow = await accepted(factory, scheduled_in=DAY)
    t = flow.scheduled_at
    assert await accept_at(factory, flow.interviewer, t + timedelta(minutes=60)) == 201
    assert await accept_at(factory, flow.interviewer, t - timedelta(minutes=60)) == 201


async def test_conflict_is_per_interviewer(factory: Factory) -> None:
    flow = await accepted(factory, scheduled_in=DAY)
    other = await factory.interviewer()
    assert await accept_at(factory, other, flow.scheduled_at) == 201


async def test_cancelled_session_does_not_conflict(factory: Factory) -> None:
    flow = await accepted(factory, scheduled_in=DAY)
    r = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewee.headers
    )
    assert r.status_code == 200, r.text
    assert await accept_at(factory, flow.interviewer, flow.scheduled_at) == 201


async def test_live_session_conflicts_from_its_actual_start(factory: Factory) -> None:
    flow = await accepted(factory, scheduled_in=DAY)
    t = flow.scheduled_at
    factory.clock.set(t - timedelta(minutes=15))  # started early: busy from now
    r = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/start", headers=flow.interviewer.headers
    )
    assert r.status_code == 200, r.text
    # Live [t-15, t+45): a slot at t+40 overlaps, one at t+45 does not.
    assert await accept_at(factory, flow.interviewer, t + timedelta(minutes=40), 15) == 409
    assert await accept_at(factory, flow.interviewer, t + timedelta(minutes=45), 15) == 201


async def test_live_session_conflicts_until_its_extended_end(factory: Factory) -> None:
    flow = await accepted(factory, scheduled_in=DAY)
    t = flow.scheduled_at
    factory.clock.set(t)
    for action, body in (("start", None), ("extend", {"minutes": 30})):
        r = await factory.client.post(
            f"/api/interview-sessions/{flow.id}/{action}",
            json=body,
            headers=flow.interviewer.headers,
        )
        assert r.status_code == 200, r.text
    # Live [t, t+90).
    assert await accept_at(factory, flow.interviewer, t + timedelta(minutes=75), 15) == 409
    assert await accept_at(factory, flow.interviewer, t + timedelta(minutes=90), 15) == 201


async def test_session_effectively_no_show_does_not_conflict(factory: Factory) -> None:
    flow = await accepted(factory, scheduled_in=DAY, duration_minutes=180)
    t = flow.scheduled_at
    no_show = timedelta(minutes=factory.app.services.settings.no_show_minutes)
    later = t + timedelta(minutes=120)
    factory.clock.set(t + no_show - timedelta(seconds=1))
    assert await accept_at(factory, flow.interviewer, later) == 409  # still SCHEDULED
    factory.clock.set(t + no_show)  # NO_SHOW by time; the sweeper has not run
    assert await accept_at(factory, flow.interviewer, later) == 201
    assert (await session_row(factory.app, flow.id))["status"] == "SCHEDULED"
