"""The inline SQLite driver: writers in one process queue without blocking the event loop."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from sqlalchemy import text

from peerview.config import Settings
from peerview.db import create_engine, transaction
from peerview.main import create_app
from tests.conftest import POSTGRES_URL

pytestmark = pytest.mark.skipif(POSTGRES_URL is not None, reason="SQLite driver tests")


async def test_overlapping_write_transactions_queue_instead_of_deadlocking(
    settings: Settings,
) -> None:
    engine = create_engine(settings)
    order: list[str] = []
    first_has_lock = asyncio.Event()

    async def first() -> None:
        async with transaction(engine) as db:
            await db.execute(text("UPDATE users SET name = name"))
            order.append("first began")
            first_has_lock.set()
            # Hold the write lock across a real suspension of this coroutine.
            await asyncio.sleep(0.05)
            order.append("first commits")

    async def second() -> None:
        await first_has_lock.wait()
        async with transaction(engine) as db:
            await db.execute(text("UPDATE users SET name = name"))
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
        await engine.dispose()
    assert order == ["first began", "first commits", "second began"]
    # The loop kept turning while the second writer waited for the first.
    assert ticks >= 3


async def test_reads_run_while_a_write_transaction_is_open(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        async with transaction(engine) as writer:
            await writer.execute(text("UPDATE users SET name = name"))
            async with transaction(engine, write=False) as reader:
                count = (await reader.execute(text("SELECT count(*) FROM users"))).scalar_one()
        assert count == 0
    finally:
        await engine.dispose()


async def test_the_aiosqlite_driver_remains_available(settings: Settings) -> None:
    threaded = settings.model_copy(update={"sqlite_driver": "aiosqlite"})
    app = create_app(threaded)
    try:
        assert app.state.engine.dialect.driver == "aiosqlite"
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/api/auth/register",
                json={
                    "name": "Thread",
                    "email": "thread@example.com",
                    "password": "long enough",
                    "role": "INTERVIEWEE",
                },
            )
        assert response.status_code == 201, response.text
    finally:
        app.state.passwords.close()
        await app.state.engine.dispose()


def test_the_inline_driver_is_the_default(settings: Settings) -> None:
    assert create_engine(settings).dialect.driver == "peerview"
