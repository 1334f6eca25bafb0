"""SESSION_REMINDER: both participants, 15 minutes before, once; none when accepted later."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from peerview.clock import FakeClock
from peerview.config import Settings
from tests.factories import Factory
from tests.flow import accepted
from tests.notifications.support import stored, sweep
from tests.platform.apps import client_for, extra_app


async def test_reminder_goes_to_both_participants_15_minutes_before(
    factory: Factory, app: FastAPI
) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at - timedelta(minutes=15))
    result = await sweep(app)
    reminders = await stored(app, kind="SESSION_REMINDER")
    assert sorted(r["user_id"] for r in reminders) == sorted(
        [flow.interviewer.id, flow.interviewee.id]
    )
    assert all(r["session_id"] == flow.id for r in reminders)
    assert len(result.reminders) == 2


async def test_no_reminder_earlier_than_15_minutes_before(factory: Factory, app: FastAPI) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at - timedelta(minutes=15, seconds=1))
    await sweep(app)
    assert await stored(app, kind="SESSION_REMINDER") == []


async def test_reminder_is_created_once_across_sweeps(factory: Factory, app: FastAPI) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at - timedelta(minutes=14))
    await sweep(app)
    factory.clock.advance(minutes=5)
    second = await sweep(app)
    assert second.reminders == []
    assert len(await stored(app, kind="SESSION_REMINDER")) == 2


async def test_no_reminder_for_a_cancelled_session(
    factory: Factory, app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    response = await client.post(
        f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewer.headers
    )
    assert response.status_code == 200
    factory.clock.set(flow.scheduled_at - timedelta(minutes=10))
    await sweep(app)
    assert await stored(app, kind="SESSION_REMINDER") == []


async def test_no_reminder_for_a_session_that_has_already_started(
    factory: Factory, app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at - timedelta(minutes=14))
    response = await client.post(
        f"/api/interview-sessions/{flow.id}/start", headers=flow.interviewer.headers
    )
    assert response.status_code == 200
    await sweep(app)
    assert await stored(app, kind="SESSION_REMINDER") == []


async def test_no_reminder_once_the_session_time_has_come(factory: Factory, app: FastAPI) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at)
    await sweep(app)
    assert await stored(app, kind="SESSION_REMINDER") == []


async def test_no_reminder_for_a_session_accepted_inside_the_last_15_minutes(
    settings: Settings, clock: FakeClock, factory: Factory
) -> None:
    # Requests that stay acceptable until 6 minutes before their time.
    short = settings.model_copy(update={"request_expiry_buffer_hours": 0.1})
    async with extra_app(short, clock) as application, client_for(application) as client:
        late = Factory(app=application, client=client, clock=clock)
        flow = await accepted(late, scheduled_in=timedelta(minutes=10))
        await sweep(application)
        assert await stored(application, kind="SESSION_REMINDER") == []
        # …while one accepted in time, in the same sweep window, is reminded.
        early = await accepted(late, scheduled_in=timedelta(hours=2))
        clock.set(early.scheduled_at - timedelta(minutes=10))
        await sweep(application)
        reminders = await stored(application, kind="SESSION_REMINDER")
        assert {r["session_id"] for r in reminders} == {early.id}
        assert flow.id != early.id
