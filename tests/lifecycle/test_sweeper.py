"""The sweeper persists time-made transitions once each and keeps running.

Three sweepers racing each other: tests/reliability/test_races.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest

from peerview.clock import FakeClock
from peerview.jobs import sweeper
from peerview.jobs.sweeper import SweepResult, run_forever, sweep_once
from tests.factories import Factory
from tests.flow import accepted, live, post_request
from tests.lifecycle.support import (
    insert_live_sessions,
    insert_requests,
    record_events,
    request_row,
    rules_of,
    session_row,
    sweep,
)

BATCH = 30


async def make_overdue(factory: Factory, count: int) -> tuple[list[str], list[str]]:
    """`count` LIVE sessions past their hard end and `count` OPEN requests past their expiry."""
    now = factory.clock.now()
    interviewer, interviewee = await factory.interviewer(), await factory.interviewee()
    sessions = await insert_live_sessions(
        factory.app,
        interviewer_id=interviewer.id,
        interviewee_id=interviewee.id,
        count=count,
        started_at=now - timedelta(hours=3),
    )
    requests = await insert_requests(
        factory.app,
        interviewee_id=interviewee.id,
        count=count,
        scheduled_at=now + timedelta(hours=1),
    )
    return sessions, requests


async def test_one_sweeper_drains_every_batch(factory: Factory) -> None:
    session_ids, request_ids = await make_overdue(factory, 2 * BATCH + 5)
    result = await sweep(factory.app, factory.clock, sweeper_batch_size=BATCH)
    assert sorted(r.id for r in result.auto_timed_out) == sorted(session_ids)
    assert sorted(r.id for r in result.expired_requests) == sorted(request_ids)


async def test_auto_timeout_is_persisted_with_ended_at_hard_end(factory: Factory) -> None:
    session_ids, request_ids = await make_overdue(factory, 3)
    await sweep(factory.app, factory.clock)
    for session_id in session_ids:
        row = await session_row(factory.app, session_id)
        assert (row["status"], row["end_reason"]) == ("COMPLETED", "AUTO_TIMEOUT")
        assert row["ended_at"] == row["hard_end_at"]
        assert row["version"] == 2
    for request_id in request_ids:
        assert (await request_row(factory.app, request_id))["status"] == "EXPIRED"


async def test_sweep_of_request_waits_for_its_expiry(factory: Factory) -> None:
    posted = await post_request(factory, await factory.interviewee())
    expires_at = posted["expires_at"]
    factory.clock.set(datetime.fromisoformat(expires_at))
    factory.clock.advance(seconds=-1)
    assert (await sweep(factory.app, factory.clock)).expired_requests == []
    factory.clock.advance(seconds=1)
    result = await sweep(factory.app, factory.clock)
    assert [r.id for r in result.expired_requests] == [posted["id"]]


async def test_session_extended_just_before_its_hard_end_is_not_ended(factory: Factory) -> None:
    flow = await live(factory)
    rules = rules_of(factory.app)
    row = await session_row(factory.app, flow.id)
    factory.clock.set(row["hard_end_at"] - timedelta(seconds=1))
    r = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/extend",
        json={"minutes": 5},
        headers=flow.interviewer.headers,
    )
    assert r.status_code == 200, r.text
    at_old_end = FakeClock(row["hard_end_at"])
    assert (await sweep(factory.app, at_old_end)).auto_timed_out == []
    assert (await session_row(factory.app, flow.id))["status"] == "LIVE"
    moved = await session_row(factory.app, flow.id)
    assert moved["hard_end_at"] == row["hard_end_at"] + timedelta(minutes=5)
    assert moved["hard_end_at"] == moved["planned_end_at"] + rules.hard_buffer
    result = await sweep(factory.app, FakeClock(moved["hard_end_at"]))
    assert [r.id for r in result.auto_timed_out] == [flow.id]


async def test_no_show_sets_ended_at_and_end_reason(factory: Factory) -> None:
    recorder = record_events(factory.app)
    flow = await accepted(factory)
    rules = rules_of(factory.app)
    deadline = flow.scheduled_at + rules.no_show
    assert (await sweep(factory.app, FakeClock(deadline - timedelta(seconds=1)))).no_shows == []
    result = await sweep(factory.app, FakeClock(deadline + timedelta(minutes=3)))
    assert [r.id for r in result.no_shows] == [flow.id]
    row = await session_row(factory.app, flow.id)
    assert (row["status"], row["end_reason"], row["ended_at"]) == ("CANCELLED", "NO_SHOW", deadline)
    assert row["started_at"] is None
    assert [(e.event, e.end_reason, e.actor_id) for e in recorder.session_events(flow.id)] == [
        ("cancelled", "NO_SHOW", None)
    ]
    factory.clock.set(deadline + timedelta(minutes=3))
    read = await factory.client.get(
        f"/api/interview-sessions/{flow.id}", headers=flow.interviewee.headers
    )
    assert (read.json()["status"], read.json()["end_reason"]) == ("CANCELLED", "NO_SHOW")
    assert datetime.fromisoformat(read.json()["ended_at"]) == deadline


async def test_sweep_leaves_sessions_that_are_not_due(factory: Factory) -> None:
    running = await live(factory)
    scheduled = await accepted(factory)
    before = [await session_row(factory.app, s.id) for s in (scheduled, running)]
    result = await sweep(factory.app, factory.clock)
    assert (result.auto_timed_out, result.no_shows, result.expired_requests) == ([], [], [])
    assert [await session_row(factory.app, s.id) for s in (scheduled, running)] == before


async def test_an_error_in_a_sweep_does_not_stop_run_forever(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = 0
    errors: list[BaseException] = []
    results: list[SweepResult] = []
    recovered = asyncio.Event()

    async def flaky(**kwargs: Any) -> SweepResult:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("database hiccup")
        return await sweep_once(**kwargs)

    def keep(result: SweepResult) -> None:
        results.append(result)
        recovered.set()

    monkeypatch.setattr(sweeper, "sweep_once", flaky)
    services = factory.app.services
    settings = services.settings.model_copy(update={"cron_interval_minutes": 0.0005})
    task = asyncio.create_task(
        run_forever(
            dataclasses.replace(services, settings=settings),
            on_result=keep,
            on_error=errors.append,
        )
    )
    try:
        await asyncio.wait_for(recovered.wait(), timeout=5)
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert calls >= 2
    assert [str(e) for e in errors] == ["database hiccup"]
    assert results  # the sweep after the failure ran to completion
