"""A client that vanishes mid-request changes nothing a completed request would not have.

With the in-process transport the app runs in the caller's task, so cancelling that task
is exactly a client disconnect reaching the server while it is still working.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from peerview.events import Event, SessionChanged
from tests.factories import Factory
from tests.flow import Flow, accepted, live
from tests.lifecycle.support import record_events, session_row
from tests.platform.apps import client_for

ACTION_BODIES: dict[str, Any] = {
    "start": None,
    "extend": {"minutes": 5},
    "end": None,
    "cancel": None,
}


class Gate:
    """Holds the next matching event's request inside its transaction (or after its commit)."""

    def __init__(self, app: FastAPI, session_id: str, *, after_commit: bool = False) -> None:
        self.session_id = session_id
        self.reached = asyncio.Event()
        self.armed = True
        if after_commit:
            app.services.events.subscribe(after_commit=self._after)
        else:
            app.services.events.subscribe(in_transaction=self._inside)

    async def _hold(self, event: Event) -> None:
        if self.armed and isinstance(event, SessionChanged) and event.session_id == self.session_id:
            self.armed = False
            self.reached.set()
            await asyncio.Event().wait()  # until the client goes away

    async def _inside(self, _db: Any, events: Sequence[Event]) -> None:
        for event in events:
            await self._hold(event)

    async def _after(self, event: Event) -> None:
        await self._hold(event)


async def flow_for(factory: Factory, action: str) -> Flow:
    if action in ("extend", "end"):
        return await live(factory)
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at)
    return flow


async def post(factory: Factory, flow: Flow, action: str) -> httpx.Response:
    user = flow.interviewee if action == "cancel" else flow.interviewer
    return await factory.client.post(
        f"/api/interview-sessions/{flow.id}/{action}",
        json=ACTION_BODIES[action],
        headers=user.headers,
    )


async def abandon(task: asyncio.Task[Any]) -> None:
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_request_abandoned_inside_its_transaction_changes_nothing(factory: Factory) -> None:
    recorder = record_events(factory.app)
    for action in ACTION_BODIES:
        flow = await flow_for(factory, action)
        before = await session_row(factory.app, flow.id)
        announced = len(recorder.session_events(flow.id))
        gate = Gate(factory.app, flow.id)
        task = asyncio.create_task(post(factory, flow, action))
        await asyncio.wait_for(gate.reached.wait(), timeout=5)
        await abandon(task)
        assert await session_row(factory.app, flow.id) == before, action
        assert len(recorder.session_events(flow.id)) == announced, action
        # Nothing was left locked: the same action, sent again in full, goes through at once.
        retry = await asyncio.wait_for(post(factory, flow, action), timeout=5)
        assert retry.status_code == 200, (action, retry.text)
        assert len(recorder.session_events(flow.id)) == announced + 1, action


async def test_request_abandoned_after_its_commit_keeps_the_whole_change(factory: Factory) -> None:
    for action in ACTION_BODIES:
        flow = await flow_for(factory, action)
        before = await session_row(factory.app, flow.id)
        gate = Gate(factory.app, flow.id, after_commit=True)
        task = asyncio.create_task(post(factory, flow, action))
        await asyncio.wait_for(gate.reached.wait(), timeout=5)
        await abandon(task)
        row = await session_row(factory.app, flow.id)
        assert completed_as(action, before, row, factory.clock.now()), action
        read = await factory.client.get(
            f"/api/interview-sessions/{flow.id}", headers=flow.interviewer.headers
        )
        assert read.json()["status"] == AFTER[action], action


async def test_start_abandoned_at_any_moment_is_all_or_nothing(factory: Factory) -> None:
    interviewer = await factory.interviewer()
    for step in range(12):
        flow = await accepted(factory, interviewer=interviewer)
        factory.clock.set(flow.scheduled_at)
        before = await session_row(factory.app, flow.id)
        with contextlib.suppress(TimeoutError):
            response = await asyncio.wait_for(post(factory, flow, "start"), timeout=step * 0.002)
            assert response.status_code == 200, response.text
        row = await session_row(factory.app, flow.id)
        now = factory.clock.now()
        assert row == before or completed_as("start", before, row, now), step
        # Nothing is left locked or broken: the next start is answered at once, and rightly.
        again = await asyncio.wait_for(post(factory, flow, "start"), timeout=5)
        assert again.status_code == (200 if row == before else 409), again.text


async def test_join_then_vanishing_leaves_a_scheduled_session_as_it_was(factory: Factory) -> None:
    flow = await accepted(factory)
    before = await session_row(factory.app, flow.id)
    async with client_for(factory.app) as gone:
        for user in (flow.interviewee, flow.interviewer):
            r = await gone.post(f"/api/interview-sessions/{flow.id}/join", headers=user.headers)
            assert r.status_code == 200, r.text
    factory.clock.advance(minutes=5)
    assert await session_row(factory.app, flow.id) == before
    read = await factory.client.get(
        f"/api/interview-sessions/{flow.id}", headers=flow.interviewer.headers
    )
    assert read.json()["status"] == "SCHEDULED"


async def test_join_then_vanishing_leaves_a_live_session_live(factory: Factory) -> None:
    flow = await live(factory)
    async with client_for(factory.app) as gone:
        r = await gone.post(
            f"/api/interview-sessions/{flow.id}/join", headers=flow.interviewee.headers
        )
        assert r.status_code == 200, r.text
    after_join = await session_row(factory.app, flow.id)
    factory.clock.advance(minutes=10)
    assert await session_row(factory.app, flow.id) == after_join
    read = await factory.client.get(
        f"/api/interview-sessions/{flow.id}", headers=flow.interviewer.headers
    )
    assert read.json()["status"] == "LIVE"
    assert read.json()["ended_at"] is None


async def test_join_abandoned_at_any_moment_leaves_the_lifecycle_alone(factory: Factory) -> None:
    flow = await live(factory)
    before = await session_row(factory.app, flow.id)
    url = f"/api/interview-sessions/{flow.id}/join"
    for step in range(8):
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(
                factory.client.post(url, headers=flow.interviewee.headers), timeout=step * 0.002
            )
        row = await session_row(factory.app, flow.id)
        for name in (
            "status",
            "started_at",
            "planned_end_at",
            "hard_end_at",
            "ended_at",
            "version",
        ):
            assert row[name] == before[name], (step, name)
        assert row["interviewee_joined_at"] in (None, factory.clock.now())
    final = await asyncio.wait_for(
        factory.client.post(url, headers=flow.interviewee.headers), timeout=5
    )
    assert final.status_code == 200, final.text


AFTER = {"start": "LIVE", "extend": "LIVE", "end": "COMPLETED", "cancel": "CANCELLED"}


def completed_as(action: str, before: Any, row: Any, now: datetime) -> bool:
    """Whether `row` is `before` with the whole of `action` applied at `now`."""
    changed = {k for k in row if row[k] != before[k]}
    if row["status"] != AFTER[action] or row["version"] != before["version"] + 1:
        return False
    if action == "start":
        return row["started_at"] == now and changed == {
            "status",
            "started_at",
            "planned_end_at",
            "hard_end_at",
            "version",
            "updated_at",
        }
    if action == "extend":
        moved = timedelta(minutes=5)
        return (
            row["extended_minutes"] == 5
            and row["planned_end_at"] == before["planned_end_at"] + moved
            and row["hard_end_at"] == before["hard_end_at"] + moved
        )
    return row["ended_at"] == now and row["end_reason"] is not None


async def test_request_abandoned_during_a_statement_is_all_or_nothing_and_frees_the_database(
    factory: Factory,
) -> None:
    for action in ACTION_BODIES:
        await abandon_during_update(factory, action)


async def abandon_during_update(factory: Factory, action: str) -> None:
    flow = await flow_for(factory, action)
    before = await session_row(factory.app, flow.id)
    loop = asyncio.get_running_loop()
    in_flight: list[asyncio.Task[httpx.Response]] = []

    def cancel_on_update(statement: str, _in_transaction: bool) -> None:
        # Cancel as the session's UPDATE goes to the database: the cancellation lands at
        # the first await from there on (the statement itself, with a network driver).
        if statement.lstrip().upper().startswith("UPDATE INTERVIEW_SESSIONS"):
            for task in in_flight:
                loop.call_soon(task.cancel)

    listeners = factory.app.services.database.listeners
    listeners.append(cancel_on_update)
    try:
        task = asyncio.create_task(post(factory, flow, action))
        in_flight.append(task)
        await asyncio.wait([task], timeout=5)
    finally:
        listeners.remove(cancel_on_update)
    row = await session_row(factory.app, flow.id)
    if not task.cancelled():
        response = task.result()
        assert response.status_code == 200, response.text
    # All or nothing: untouched, or exactly what the completed action writes.
    assert row == before or completed_as(action, before, row, factory.clock.now())
    in_flight.clear()
    del task
    # No transaction, lock or broken connection is left behind: writes go through at once.
    posted = await asyncio.wait_for(
        factory.client.post(
            "/api/interview-requests",
            json={
                "category": "arrays",
                "difficulty": "EASY",
                "scheduled_at": (factory.clock.now() + timedelta(days=2)).isoformat(),
            },
            headers=(await factory.interviewee()).headers,
        ),
        timeout=5,
    )
    assert posted.status_code == 201, posted.text
    if row == before:
        retry = await asyncio.wait_for(post(factory, flow, action), timeout=5)
        assert retry.status_code == 200, retry.text
