"""SQLite on the event loop: writers in one process queue without blocking the loop."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import text

from peerview.config import Settings
from peerview.db import create_database
from tests.support.environment import POSTGRES_URL
from tests.support.sql import execute

pytestmark = pytest.mark.skipif(POSTGRES_URL is not None, reason="SQLite driver tests")


async def test_overlapping_write_transactions_queue_instead_of_deadlocking(
    settings: Settings,
) -> None:
    database = create_database(settings)
    order: list[str] = []
    first_has_lock = asyncio.Event()

    async def first() -> None:
        async with database.transaction() as db:
            await execute(db, text("UPDATE users SET name = name"))
            order.append("first began")
            first_has_lock.set()
            # Hold the write lock across a real suspension of this coroutine.
            await asyncio.sleep(0.05)
            order.append("first commits")

    async def second() -> None:
        await first_has_lock.wait()
        async with database.transaction() as db:
            await execute(db, text("UPDATE users SET name = name"))
            order.append("second began")

    async def ticker() -> int:
        ticks = 0
        started = time.perf_counter()
        while time.perf_counter() - started < 0.04:
            await asyncio.sleep(0.005)
            ticks += 1
        return ticks

    try:
        _, _, ticks = await asyncio.wait_for(asyncio.gather(first(), second(), ticker()), 5)
    finally:
        await database.close()
    assert order == ["first began", "first commits", "second began"]
    # The loop kept turning while the second writer waited for the first.
    assert ticks >= 3


async def test_reads_run_while_a_write_transaction_is_open(settings: Settings) -> None:
    database = create_database(settings)
    try:
        async with database.transaction() as writer:
            await execute(writer, text("UPDATE users SET name = name"))
            async with database.transaction(write=False) as reader:
                count = (await execute(reader, text("SELECT count(*) FROM users"))).scalar_one()
        assert count == 0
    finally:
        await database.close()
