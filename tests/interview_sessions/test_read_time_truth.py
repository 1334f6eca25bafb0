"""Read-time truth: time-made transitions hold on every read and action before any sweep."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from tests.factories import Factory
from tests.flow import accepted, live
from tests.lifecycle.support import session_row, sweep
from tests.platform.apps import assert_problem


def at(value: str) -> datetime:
    return datetime.fromisoformat(value)


async def test_live_session_past_hard_end_reads_completed_auto_timeout(factory: Factory) -> None:
    flow = await live(factory)
    hard_end = at(flow.session["hard_end_at"])
    factory.clock.set(hard_end - timedelta(seconds=1))
    still = await factory.client.get(
        f"/api/interview-sessions/{flow.id}", headers=flow.interviewee.headers
    )
    assert still.json()["status"] == "LIVE"
    factory.clock.set(hard_end)
    response = await factory.client.get(
        f"/api/interview-sessions/{flow.id}", headers=flow.interviewee.headers
    )
    session = response.json()
    assert (session["status"], session["end_reason"]) == ("COMPLETED", "AUTO_TIMEOUT")
    assert at(session["ended_at"]) == hard_end
    assert (await session_row(factory.app, flow.id))["status"] == "LIVE"  # nothing swept


@pytest.mark.parametrize(("action", "body"), [("end", None), ("extend", {"minutes": 5})])
async def test_live_session_past_hard_end_refuses_end_and_extend(
    factory: Factory, action: str, body: object
) -> None:
    flow = await live(factory)
    factory.clock.set(at(flow.session["hard_end_at"]) + timedelta(minutes=1))
    response = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/{action}", json=body, headers=flow.interviewer.headers
    )
    assert_problem(response, 409, "INVALID_SESSION_STATE")
    row = await session_row(factory.app, flow.id)
    assert (row["status"], row["ended_at"], row["extended_minutes"]) == ("LIVE", None, 0)


async def test_sweeper_persists_what_the_read_already_said(factory: Factory) -> None:
    flow = await live(factory)
    factory.clock.set(at(flow.session["hard_end_at"]) + timedelta(minutes=7))
    url = f"/api/interview-sessions/{flow.id}"
    before = (await factory.client.get(url, headers=flow.interviewer.headers)).json()
    await sweep(factory.app, factory.clock)
    after = (await factory.client.get(url, headers=flow.interviewer.headers)).json()
    assert after == before
    row = await session_row(factory.app, flow.id)
    assert (row["status"], row["end_reason"], row["ended_at"]) == (
        "COMPLETED",
        "AUTO_TIMEOUT",
        at(flow.session["hard_end_at"]),
    )


async def test_scheduled_session_past_no_show_deadline_reads_cancelled_no_show(
    factory: Factory,
) -> None:
    flow = await accepted(factory)
    deadline = flow.scheduled_at + timedelta(minutes=factory.app.services.settings.no_show_minutes)
    url = f"/api/interview-sessions/{flow.id}"
    factory.clock.set(deadline - timedelta(seconds=1))
    assert (await factory.client.get(url, headers=flow.interviewer.headers)).json()[
        "status"
    ] == "SCHEDULED"
    factory.clock.set(deadline)
    session = (await factory.client.get(url, headers=flow.interviewer.headers)).json()
    assert (session["status"], session["end_reason"]) == ("CANCELLED", "NO_SHOW")
    assert at(session["ended_at"]) == deadline
    assert (await session_row(factory.app, flow.id))["status"] == "SCHEDULED"


async def test_scheduled_session_past_no_show_deadline_refuses_start(factory: Factory) -> None:
    flow = await accepted(factory)
    deadline = flow.scheduled_at + timedelta(minutes=factory.app.services.settings.no_show_minutes)
    factory.clock.set(deadline)
    response = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/start", headers=flow.interviewer.headers
    )
    assert_problem(response, 409, "INVALID_SESSION_STATE")
    assert (await session_row(factory.app, flow.id))["status"] == "SCHEDULED"


async def test_scheduled_session_past_no_show_deadline_refuses_cancel(factory: Factory) -> None:
    flow = await accepted(factory)
    deadline = flow.scheduled_at + timedelta(minutes=factory.app.services.settings.no_show_minutes)
    factory.clock.set(deadline + timedelta(minutes=1))
    response = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewee.headers
    )
    assert_problem(response, 409, "INVALID_SESSION_STATE")
