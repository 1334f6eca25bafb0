"""`rebuild` recounts every rollup from the rows, and the answers read from them are right."""

from __future__ import annotations

import statistics
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import insert, text, update

from peerview.analytics.rebuild import rebuild
from peerview.analytics.service import rounded
from peerview.models import Feedback, InterviewRequest, InterviewSession, User
from peerview.models.base import table_of
from tests.analytics import history, oracle, recount
from tests.analytics.support import Driver, at
from tests.factories import Factory, TestUser
from tests.lifecycle.support import rules_of
from tests.support.sql import execute

NOW = at(14, 10)


async def load(app: FastAPI, seed: int, count: int) -> list[dict[str, Any]]:
    """Varied rows written straight into the tables; returns the requests."""
    interviewers = history.users(4, "INTERVIEWER", NOW)
    interviewees = history.users(6, "INTERVIEWEE", NOW)
    requests, sessions, feedback = history.rows(
        seed,
        count,
        now=NOW,
        interviewers=[u["id"] for u in interviewers],
        interviewees=[u["id"] for u in interviewees],
    )
    async with app.services.database.transaction() as db:
        for table, rows in (
            (User, interviewers + interviewees),
            (InterviewRequest, requests),
            (InterviewSession, sessions),
            (Feedback, feedback),
        ):
            if rows:
                await execute(db, insert(table_of(table)), rows)
    return requests


async def rebuilt(app: FastAPI) -> None:
    async with app.services.database.transaction() as db:
        await rebuild(db)


async def check_rollups(app: FastAPI) -> None:
    async with app.services.database.transaction(write=False) as db:
        await recount.check(db)


def exact_median(requests: list[dict[str, Any]], start: Any = None, end: Any = None) -> Any:
    waits = [
        (r["accepted_at"] - r["created_at"]) // timedelta(microseconds=1)
        for r in requests
        if r["status"] == "ACCEPTED"
        and (start is None or r["created_at"] >= start)
        and (end is None or r["created_at"] < end)
    ]
    if not waits:
        return None
    return rounded(Decimal(str(statistics.median(waits))) / Decimal(60_000_000))


async def test_rebuild_counts_rows_loaded_behind_the_applications_back(
    factory: Factory,
) -> None:
    factory.clock.set(NOW)
    admin = await factory.admin()
    requests = await load(factory.app, seed=1, count=600)
    await rebuilt(factory.app)
    await check_rollups(factory.app)
    periods = [
        (None, None),
        (at(3, 7, 31), None),
        (None, at(12, 23, 59)),
        (at(1, 0), at(20, 0)),
        (at(9, 13, 5), at(9, 17, 45)),
        (at(9, 13, 5), at(10, 17, 45)),
    ]
    for start, end in periods:
        params = {k: v.isoformat() for k, v in (("from", start), ("to", end)) if v is not None}
        body = await Driver(factory).get(admin, "/api/analytics/platform", **params)
        async with factory.app.services.database.transaction(write=False) as db:
            old = await oracle.platform(
                db, now=NOW, rules=rules_of(factory.app), start=start, end=end
            )
        # Microsecond waits: the old SQLite arithmetic (julianday) was exact to the millisecond
        # only, so the median is held to the exact one instead.
        assert body.pop("median_minutes_to_accept") == exact_median(requests, start, end)
        old.pop("median_minutes_to_accept")
        assert body == old, (start, end)


async def test_rebuild_after_the_api_kept_the_rollups_changes_nothing(factory: Factory) -> None:
    drive = Driver(factory)
    interviewer, interviewee = await factory.interviewer(), await factory.interviewee()
    first = await drive.request(at(7, 9), interviewee, scheduled_at=at(8, 9), category="arrays")
    second = await drive.request(at(7, 9), interviewee, scheduled_at=at(9, 9), category="dp")
    await drive.request(at(7, 10), interviewee, scheduled_at=at(7, 16), category="dp")
    session = await drive.accept(at(7, 9, 20), interviewer, first)
    await drive.cancel_request(at(7, 11), interviewee, second)
    await drive.session_action(at(8, 9), interviewer, session, "start")
    await drive.session_action(at(8, 9, 40), interviewer, session, "end")
    await drive.feedback(at(8, 10), interviewee, session, (5, 4, 3, 2))
    factory.clock.set(at(8, 12))
    await check_rollups(factory.app)
    await rebuilt(factory.app)
    await check_rollups(factory.app)


async def test_rebuild_replaces_wrong_counts_and_waits(factory: Factory) -> None:
    factory.clock.set(NOW)
    await load(factory.app, seed=2, count=80)
    await rebuilt(factory.app)
    requests = table_of(InterviewRequest)
    async with factory.app.services.database.transaction() as db:
        await execute(db, text("UPDATE analytics_request_days SET requests = requests + 7"))
        await execute(db, text("DELETE FROM analytics_week_users"))
        await execute(
            db, text("INSERT INTO analytics_accept_waits (bucket, requests) VALUES (-99, 3)")
        )
        await execute(db, update(requests).values(accept_wait_us=12345))
    await rebuilt(factory.app)
    await check_rollups(factory.app)


@pytest.fixture
async def known(factory: Factory) -> TestUser:
    factory.clock.set(NOW)
    return await factory.admin()


async def test_a_period_at_odd_instants_reads_part_days_from_the_rows(
    factory: Factory, known: TestUser
) -> None:
    requests = await load(factory.app, seed=3, count=300)
    await rebuilt(factory.app)
    # Each request counted once whatever the cut: the funnel of two adjacent periods adds up.
    drive = Driver(factory)
    cut = at(9, 13, 7) + timedelta(microseconds=1)
    before = await drive.get(known, "/api/analytics/platform", to=cut.isoformat())
    after = await drive.get(known, "/api/analytics/platform", **{"from": cut.isoformat()})
    whole = await drive.get(known, "/api/analytics/platform")
    for key in whole["funnel"]:
        assert before["funnel"][key] + after["funnel"][key] == whole["funnel"][key], key
    for key in whole["sessions"]:
        assert before["sessions"][key] + after["sessions"][key] == whole["sessions"][key], key
    assert whole["funnel"]["created"] == len(requests)
