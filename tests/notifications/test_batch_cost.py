"""A sweeper batch's notifications cost a few statements, not some per transition: what they
are about is read in one query per batch, and they are inserted 200 to a statement."""

from __future__ import annotations

from peerview.notifications.repository import INSERT_CHUNK
from tests.analytics.support import at, due_rows
from tests.factories import Factory
from tests.notifications.support import stored, sweep
from tests.support.statements import counting_statements


def _details_reads(statements: list[str]) -> list[str]:
    """The reads of what notifications are about (their category is in every body)."""
    heads = tuple(
        f"SELECT {table}.id, {table}.category"
        for table in ("interview_sessions", "interview_requests")
    )
    return [s for s in statements if s.startswith(heads)]


async def test_a_sweep_batch_stores_its_notifications_in_a_few_statements(
    factory: Factory,
) -> None:
    due = 300  # one batch of each kind (SWEEPER_BATCH_SIZE is 500)
    await due_rows(factory, due)
    factory.clock.set(at(28, 9))
    with counting_statements(factory.app) as statements:
        result = await sweep(factory.app)
    assert len(result.expired_requests) == due
    assert len(result.no_shows) == due

    expired = await stored(factory.app, kind="REQUEST_EXPIRED")
    cancelled = await stored(factory.app, kind="SESSION_CANCELLED")
    assert len(expired) == due
    assert len(cancelled) == 2 * due  # a no-show is told to both
    assert {r["request_id"] for r in expired} == {e.id for e in result.expired_requests}
    assert {r["session_id"] for r in cancelled} == {s.id for s in result.no_shows}
    assert all("arrays (medium)" in r["body"] for r in expired + cancelled)

    # The expirations: their requests in one read, 300 rows in two inserts; the no-shows:
    # their sessions in one read, 600 rows in three.
    inserts = [s for s in statements if s.startswith("INSERT INTO notifications")]
    assert len(inserts) == -(-due // INSERT_CHUNK) + -(-2 * due // INSERT_CHUNK)
    assert len(_details_reads(statements)) == 2


async def test_sweeping_again_stores_nothing_twice(factory: Factory) -> None:
    await due_rows(factory, 30)
    factory.clock.set(at(28, 9))
    await sweep(factory.app)
    before = await stored(factory.app)
    again = await sweep(factory.app)
    assert again.total == 0
    assert await stored(factory.app) == before
