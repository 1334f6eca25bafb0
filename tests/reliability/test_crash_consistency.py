"""Crash consistency: a real server SIGKILLed under load keeps every write it acknowledged.

The harness lives in soak/crash.py (`make soak` runs it with 20 kills); here it runs with 3
kills on the suite's database, and its checker is shown to catch a database that lost a write
or broke an invariant.
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.models import Base
from soak.crash import (
    KINDS,
    TIME_RULES,
    Ledger,
    Pair,
    check_database,
    checker_url,
    run_crash,
    run_flow,
    verify,
)
from tests.factories import Factory
from tests.support.environment import POSTGRES_URL


async def test_acknowledged_writes_survive_sigkill(database_url: str, tmp_path: Path) -> None:
    summary = await run_crash(
        database_url,
        kills=3,
        workdir=tmp_path,
        up_seconds=(0.1, 0.6),
        writes_before_kill=6,
        warm_restarts=True,
        workers=2,
        seed=7,
    )
    assert summary.ledger.unexpected == []
    assert len(summary.kills) == 3
    expected_integrity = None if POSTGRES_URL else "ok"
    for kill in summary.kills:
        # Each life of the server acknowledged writes, and the kill lost none of them.
        assert kill.writes >= 6
        assert kill.check.lost == {}, kill.check.describe()
        assert kill.check.violations == [], kill.check.describe()
        assert kill.check.integrity == expected_integrity
    assert summary.final.lost == {}, summary.final.describe()
    assert summary.final.violations == [], summary.final.describe()
    assert summary.final.integrity == expected_integrity
    # The last life served whole flows, so every kind of write was acknowledged and found.
    assert summary.ledger.flows_completed >= 1
    assert all(summary.final.acknowledged[kind] >= 1 for kind in KINDS)
    assert summary.ok


# --- the checker catches what it is there to catch -------------------------------------------


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # The time rules of the crash run's server: a flow runs through at once.
    return settings.model_copy(update=TIME_RULES)


@pytest.fixture
async def ledger(client: httpx.AsyncClient, clock: FakeClock, factory: Factory) -> Ledger:
    """Two whole flows through the app, as the crash run's load makes them, by a pair of
    users the factory made (as if registered: their rows are in the ledger too)."""
    result = Ledger()
    interviewer, interviewee = await factory.interviewer(), await factory.interviewee()
    for user in (interviewer, interviewee):
        result.record("user", user.id, email=user.email, role=user.role.value)
    pair = Pair((interviewer.id, interviewer.token), (interviewee.id, interviewee.token))
    rng = random.Random(1)
    for _ in range(2):
        await run_flow(client, result, label="checker", now=clock.now, rng=rng, pair=pair)
    return result


def _first(ledger: Ledger, kind: str) -> dict[str, Any]:
    ack = next(a for a in ledger.acks if a.kind == kind)
    return {"id": ack.id, **ack.fields}


async def _check_after(
    database_url: str, ledger: Ledger, clock: FakeClock, *statements: str, **params: Any
) -> Any:
    """The checker's verdict on the database after `statements`, on one connection whose
    transaction is rolled back afterwards (PostgreSQL undoes even the DDL)."""
    engine = create_async_engine(checker_url(database_url))
    try:
        async with engine.connect() as conn:
            transaction = await conn.begin()
            for statement in statements:
                await conn.execute(text(statement), params)
            result = await check_database(conn, ledger.acks, clock.now())
            await transaction.rollback()
            return result
    finally:
        await engine.dispose()


async def test_checker_passes_an_intact_database(
    database_url: str, ledger: Ledger, clock: FakeClock
) -> None:
    result = await verify(database_url, ledger.acks, clock.now())
    assert result.ok, result.describe()
    assert dict(result.acknowledged) == {
        "user": 2,
        "request": 2,
        "accept": 2,
        "start": 2,
        "end": 2,
        "feedback": 4,
    }
    assert result.integrity == (None if POSTGRES_URL else "ok")


async def test_checker_finds_a_lost_feedback(
    database_url: str, ledger: Ledger, clock: FakeClock
) -> None:
    feedback = _first(ledger, "feedback")
    result = await _check_after(
        database_url, ledger, clock, "DELETE FROM feedback WHERE id = :id", id=feedback["id"]
    )
    assert list(result.lost) == ["feedback"]
    assert len(result.lost["feedback"]) == 1
    assert feedback["id"] in result.lost["feedback"][0]
    assert result.violations == []
    assert not result.ok


async def test_checker_finds_a_lost_notification(
    database_url: str, ledger: Ledger, clock: FakeClock
) -> None:
    accept = _first(ledger, "accept")
    result = await _check_after(
        database_url,
        ledger,
        clock,
        "DELETE FROM notifications WHERE kind = 'REQUEST_ACCEPTED' AND request_id = :id",
        id=accept["request_id"],
    )
    assert list(result.lost) == ["accept"]
    assert len(result.lost["accept"]) == 1
    assert "REQUEST_ACCEPTED" in result.lost["accept"][0]
    assert result.violations == []


async def test_checker_finds_a_changed_registration(
    database_url: str, ledger: Ledger, clock: FakeClock
) -> None:
    user = _first(ledger, "user")
    result = await _check_after(
        database_url,
        ledger,
        clock,
        "UPDATE users SET email = 'someone-else@example.com' WHERE id = :id",
        id=user["id"],
    )
    assert list(result.lost) == ["user"]
    assert len(result.lost["user"]) == 1
    assert result.violations == []


async def test_checker_finds_an_undone_end_and_feedback_on_a_live_session(
    database_url: str, ledger: Ledger, clock: FakeClock
) -> None:
    session = _first(ledger, "end")
    result = await _check_after(
        database_url,
        ledger,
        clock,
        "UPDATE interview_sessions SET status = 'LIVE', ended_at = NULL, end_reason = NULL "
        "WHERE id = :id",
        id=session["id"],
    )
    assert list(result.lost) == ["end"]
    assert len(result.lost["end"]) == 1
    # Both participants' feedback now sits on a session that is LIVE (before hard_end_at).
    assert len(result.violations) == 2
    assert all("is on a session that is LIVE" in v for v in result.violations)


async def test_checker_finds_an_accepted_request_without_its_session(
    database_url: str, ledger: Ledger, clock: FakeClock
) -> None:
    accept = _first(ledger, "accept")
    result = await _check_after(
        database_url,
        ledger,
        clock,
        "DELETE FROM feedback WHERE session_id = :id",
        "DELETE FROM interview_sessions WHERE id = :id",
        id=accept["id"],
    )
    assert {kind: len(items) for kind, items in result.lost.items()} == {
        "accept": 1,
        "start": 1,
        "end": 1,
        "feedback": 2,
    }
    assert result.violations == [f"request {accept['request_id']} is ACCEPTED without a session"]


async def test_checker_finds_a_session_whose_request_is_not_accepted(
    database_url: str, ledger: Ledger, clock: FakeClock
) -> None:
    accept = _first(ledger, "accept")
    result = await _check_after(
        database_url,
        ledger,
        clock,
        "UPDATE interview_requests SET status = 'OPEN' WHERE id = :id",
        id=accept["request_id"],
    )
    assert list(result.lost) == ["accept"]
    assert result.violations == [f"session {accept['id']} belongs to a request that is OPEN"]


async def test_checker_finds_two_sessions_for_one_request(
    database_url: str, ledger: Ledger, clock: FakeClock
) -> None:
    accept = _first(ledger, "accept")
    sessions = Base.metadata.tables["interview_sessions"]
    engine = create_async_engine(checker_url(database_url))
    try:
        async with engine.connect() as conn:
            transaction = await conn.begin()
            await _drop_unique_request_id(conn)
            row = (await conn.execute(select(sessions).where(sessions.c.id == accept["id"]))).one()
            await conn.execute(insert(sessions).values({**row._mapping, "id": "second-session"}))
            result = await check_database(conn, ledger.acks, clock.now())
            await transaction.rollback()
    finally:
        await engine.dispose()
    assert result.lost == {}
    assert result.violations == [
        f"request {accept['request_id']} has 2 sessions: {sorted([accept['id'], 'second-session'])}"
    ]


async def _drop_unique_request_id(conn: AsyncConnection) -> None:
    """Take away the backstop that makes two sessions per request impossible."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            text("ALTER TABLE interview_sessions DROP CONSTRAINT uq_interview_sessions_request_id")
        )
        return
    # SQLite cannot drop a table's constraint: copy the table without its constraints.
    # (The checker's connection does not enforce foreign keys.)
    for statement in (
        "CREATE TABLE loose_sessions AS SELECT * FROM interview_sessions",
        "DROP TABLE interview_sessions",
        "ALTER TABLE loose_sessions RENAME TO interview_sessions",
    ):
        await conn.execute(text(statement))


def _scribble_over_index(path: str, index: str) -> None:
    """Overwrite the cells of `index`'s root page in the file, leaving the page header alone."""
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
        (root,) = db.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = ?", (index,)
        ).fetchone()
    db.close()
    with open(path, "r+b") as file:
        file.seek((root - 1) * page_size + 100)
        file.write(b"\x5a" * (page_size - 100))


@pytest.mark.skipif(POSTGRES_URL is not None, reason="PRAGMA integrity_check is SQLite's")
async def test_checker_finds_a_corrupt_sqlite_file(
    database_url: str, ledger: Ledger, clock: FakeClock
) -> None:
    path = make_url(database_url).database
    assert path is not None
    _scribble_over_index(path, "ix_feedback_subject")
    result = await verify(database_url, ledger.acks, clock.now())
    assert result.integrity is not None
    assert result.integrity != "ok"
    assert not result.ok
