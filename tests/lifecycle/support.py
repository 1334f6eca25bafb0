"""Helpers for the request and session suites: raw rows, recorded events, bulk inserts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import RowMapping, insert, select

from peerview.clock import FakeClock
from peerview.events import Event, SessionChanged
from peerview.interview_sessions.lifecycle import SessionTimes, TimeRules, session_at, time_rules
from peerview.jobs.sweeper import SweepResult, sweep_once
from peerview.models import InterviewRequest, InterviewSession
from peerview.models.base import new_id, table_of
from peerview.models.enums import EndReason, Role, SessionStatus
from tests.factories import Factory, TestUser
from tests.support.sql import execute

requests_table = table_of(InterviewRequest)
sessions_table = table_of(InterviewSession)


def rules_of(app: FastAPI) -> TimeRules:
    return time_rules(app.services.settings)


async def request_row(app: FastAPI, request_id: str) -> RowMapping:
    async with app.services.database.transaction(write=False) as db:
        result = await execute(db, select(requests_table).where(requests_table.c.id == request_id))
        row = result.mappings().one()
    return row


async def session_row(app: FastAPI, session_id: str) -> RowMapping:
    async with app.services.database.transaction(write=False) as db:
        result = await execute(db, select(sessions_table).where(sessions_table.c.id == session_id))
        row = result.mappings().one()
    return row


async def session_count(app: FastAPI, request_id: str) -> int:
    async with app.services.database.transaction(write=False) as db:
        result = await execute(
            db, select(sessions_table.c.id).where(sessions_table.c.request_id == request_id)
        )
        return len(result.all())


def expected_read(row: RowMapping, now: datetime, rules: TimeRules) -> tuple[str, Any, Any]:
    """(status, ended_at, end_reason) that lifecycle.session_at gives for a stored row."""
    times = SessionTimes(
        status=SessionStatus(row["status"]),
        scheduled_at=row["scheduled_at"],
        hard_end_at=row["hard_end_at"],
        ended_at=row["ended_at"],
        end_reason=EndReason(row["end_reason"]) if row["end_reason"] else None,
    )
    state = session_at(times, now, rules)
    return state.status.value, state.ended_at, state.end_reason


def parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value is not None else None


@dataclass
class Recorder:
    """Every domain event the app published and committed, in order."""

    events: list[Event] = field(default_factory=list)

    def session_events(self, session_id: str) -> list[SessionChanged]:
        return [
            e for e in self.events if isinstance(e, SessionChanged) and e.session_id == session_id
        ]


def record_events(app: FastAPI) -> Recorder:
    recorder = Recorder()

    async def keep(event: Event) -> None:
        recorder.events.append(event)

    app.services.events.subscribe(after_commit=keep)
    return recorder


async def sweep(app: FastAPI, clock: FakeClock, **settings_changes: Any) -> SweepResult:
    settings = app.services.settings
    if settings_changes:
        settings = settings.model_copy(update=settings_changes)
    return await sweep_once(
        database=app.services.database,
        clock=clock,
        settings=settings,
        events=app.services.events,
        notifier=app.services.notifier,
    )


async def set_role(factory: Factory, user: TestUser, role: Role) -> None:
    admin = await factory.admin()
    response = await factory.client.patch(
        f"/api/users/{user.id}", json={"role": role.value}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    user.role = role


async def call(
    client: httpx.AsyncClient, method: str, url: str, user: TestUser | None, **kwargs: Any
) -> httpx.Response:
    headers = user.headers if user is not None else {}
    return await client.request(method, url, headers=headers, **kwargs)


async def gather_responses(*calls: Any) -> list[httpx.Response]:
    results: list[httpx.Response] = list(await asyncio.gather(*calls))
    return results


async def insert_requests(
    app: FastAPI, *, interviewee_id: str, count: int, scheduled_at: datetime, status: str = "OPEN"
) -> list[str]:
    """`count` requests straight into the table; their expiry follows the configured buffer."""
    rules = rules_of(app)
    ids = [new_id() for _ in range(count)]
    rows = [
        {
            "id": request_id,
            "interviewee_id": interviewee_id,
            "category": "arrays",
            "difficulty": "EASY",
            "type": "CODING",
            "scheduled_at": scheduled_at,
            "duration_minutes": 60,
            "note": "",
            "status": status,
            "expires_at": scheduled_at - rules.request_expiry_buffer,
            "created_at": scheduled_at - timedelta(days=1),
            "updated_at": scheduled_at - timedelta(days=1),
        }
        for request_id in ids
    ]
    async with app.services.database.transaction() as db:
        await execute(db, insert(requests_table), rows)
    return ids


async def insert_live_sessions(
    app: FastAPI,
    *,
    interviewer_id: str,
    interviewee_id: str,
    count: int,
    started_at: datetime,
    duration_minutes: int = 60,
) -> list[str]:
    """`count` LIVE sessions (with their ACCEPTED requests), started at `started_at`."""
    rules = rules_of(app)
    request_ids = await insert_requests(
        app,
        interviewee_id=interviewee_id,
        count=count,
        scheduled_at=started_at,
        status="ACCEPTED",
    )
    planned = started_at + timedelta(minutes=duration_minutes)
    session_ids = [new_id() for _ in request_ids]
    rows = [
        {
            "id": session_id,
            "request_id": request_id,
            "interviewer_id": interviewer_id,
            "interviewee_id": interviewee_id,
            "category": "arrays",
            "difficulty": "EASY",
            "type": "CODING",
            "status": "LIVE",
            "scheduled_at": started_at,
            "duration_minutes": duration_minutes,
            "scheduled_end_at": planned,
            "started_at": started_at,
            "planned_end_at": planned,
            "hard_end_at": planned + rules.hard_buffer,
            "extended_minutes": 0,
            "version": 1,
            "created_at": started_at - timedelta(days=1),
            "updated_at": started_at,
        }
        for session_id, request_id in zip(session_ids, request_ids, strict=True)
    ]
    async with app.services.database.transaction() as db:
        await execute(db, insert(sessions_table), rows)
    return session_ids
