"""Keeping the rollups costs one statement per rollup table a transaction touches, not one
per row: a sweeper batch of hundreds of transitions adds a single upsert."""

from __future__ import annotations

from typing import Any

from tests.analytics import recount
from tests.analytics.support import Driver, at, due_rows
from tests.factories import Factory
from tests.flow import live
from tests.lifecycle.support import sweep
from tests.session_questions.support import add, bank_question, remove, suggest
from tests.support.statements import counting_statements

ROLLUP_TABLES = (
    "analytics_request_days",
    "analytics_accept_wait_days",
    "analytics_accept_waits",
    "analytics_activity_days",
    "analytics_week_users",
    "analytics_weeks",
)


def _rollup_writes(statements: list[str]) -> list[str]:
    return [s for s in statements if " analytics_" in s and not s.lstrip().startswith("SELECT")]


async def test_a_sweep_writes_each_rollup_once_per_batch_whatever_its_size(
    factory: Factory,
) -> None:
    await due_rows(factory, 300)
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
    # each one's week), the week's count: on SQLite a statement each, on PostgreSQL one in all.
    if factory.app.services.database.dialect == "postgresql":
        [write] = writes
        for table in ROLLUP_TABLES:
            assert f"INSERT INTO {table} " in write, table
    else:
        assert len(writes) == 7, writes
    async with factory.app.services.database.transaction(write=False) as db:
        await recount.check(db)


async def test_changing_a_sessions_questions_counts_nothing(factory: Factory) -> None:
    flow = await live(factory)
    question, other = await bank_question(factory), await bank_question(factory)
    client, er = factory.client, flow.interviewer
    with counting_statements(factory.app) as statements:
        assert (await add(client, er, flow.id, question["id"])).status_code == 201
        assert (await suggest(client, er, flow.id, 1)).status_code == 201
        assert (await remove(client, er, flow.id, other["id"])).status_code == 204
    assert _rollup_writes(statements) == []
    async with factory.app.services.database.transaction(write=False) as db:
        await recount.check(db)
