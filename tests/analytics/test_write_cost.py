"""Keeping the rollups costs one statement per rollup table a transaction touches, not one
per row: a sweeper batch of hundreds of transitions adds a single upsert."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import insert

from peerview.analytics.rebuild import rebuild
from peerview.models import InterviewRequest, InterviewSession
from peerview.models.base import new_id, table_of
from tests.analytics import recount
from tests.analytics.support import Driver, at, counting_statements
from tests.factories import Factory
from tests.lifecycle.support import sweep
from tests.support.sql import execute


def _rollup_writes(statements: list[str]) -> list[str]:
    return [s for s in statements if " analytics_" in s and not s.lstrip().startswith("SELECT")]


async def _due_rows(factory: Factory, count: int) -> None:
    """`count` OPEN requests and as many SCHEDULED sessions, over several days, all due."""
    interviewer, interviewee = await factory.interviewer(), await factory.interviewee()
    requests, sessions = [], []
    for n in range(count):
        created = at(2, 9) + timedelta(hours=n, microseconds=n)
        scheduled = created + timedelta(days=1)
        common = {
            "interviewee_id": interviewee.id,
            "category": "arrays",
            "difficulty": "MEDIUM",
            "type": "CODING",
            "scheduled_at": scheduled,
            "duration_minutes": 60,
            "note": "",
            "expires_at": scheduled - timedelta(hours=5),
            "created_at": created,
            "updated_at": created,
        }
        requests.append({"id": new_id(), **common, "status": "OPEN", "accepted_at": None})
        request_id = new_id()
        accepted = {"status": "ACCEPTED", "accepted_at": created + timedelta(minutes=n)}
        requests.append({"id": request_id, **common, **accepted})
        sessions.append(
            {
                "id": new_id(),
                "request_id": request_id,
                "interviewer_id": interviewer.id,
                "interviewee_id": interviewee.id,
                "category": "arrays",
                "difficulty": "MEDIUM",
                "type": "CODING",
                "status": "SCHEDULED",
                "scheduled_at": scheduled,
                "duration_minutes": 60,
                "scheduled_end_at": scheduled + timedelta(minutes=60),
                "extended_minutes": 0,
                "version": 0,
                "created_at": created + timedelta(minutes=n),
                "updated_at": created,
            }
        )
    async with factory.app.services.database.transaction() as db:
        await execute(db, insert(table_of(InterviewRequest)), requests)
        await execute(db, insert(table_of(InterviewSession)), sessions)
        await rebuild(db)


async def test_a_sweep_writes_each_rollup_once_per_batch_whatever_its_size(
    factory: Factory,
) -> None:
    await _due_rows(factory, 300)
    factory.clock.set(at(28, 9))
    with counting_statements(factory.app) as statements:
        result = await sweep(factory.app, factory.clock)
    assert len(result.expired_requests) == 300
    assert len(result.no_shows) == 300
    # One batch of expirations (request_days), one of no-shows (session_days).
    writes = _rollup_writes(statements)
    assert len(writes) == 2, writes
    async with factory.app.services.database.transaction(write=False) as db:
        await recount.check(db)


async def test_an_acceptance_adds_its_counts_in_a_few_statements(factory: Factory) -> None:
    drive = Driver(factory)
    interviewer, interviewee = await factory.interviewer(), await factory.interviewee()
    request = await drive.request(at(7, 9), interviewee, scheduled_at=at(9, 9), category="dp")
    with counting_statements(factory.app) as statements:
        await drive.accept(at(7, 9, 30), interviewer, request)
    writes: list[Any] = _rollup_writes(statements)
    # The funnel, the wait by day and over all time, the two people's activity (that day, then
    # each one's week), the week's count.
    assert len(writes) == 7, writes
    async with factory.app.services.database.transaction(write=False) as db:
        await recount.check(db)
