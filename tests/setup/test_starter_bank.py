"""The starter bank is loaded once per database, by itself, on a first run (docs/api.md §3.5)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from peerview import cli
from peerview.clock import FakeClock
from peerview.config import Settings, get_settings
from peerview.migrate import upgrade
from peerview.models import AppMeta, Question, User
from peerview.models.base import table_of
from peerview.questions.seed import load_starter_bank as starter_entries
from peerview.setup.first_run import load_starter_bank
from tests.support.environment import in_thread, test_settings

questions = table_of(Question)
app_meta = table_of(AppMeta)
BEFORE_FIRST_RUN = "b267b5c5d930"


async def run_sql(url: str, statement: Any) -> Any:
    """Run one statement in a transaction of its own: its first value, or the rows changed."""
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            result = await conn.execute(statement)
            return result.scalar() if result.returns_rows else result.rowcount
    finally:
        await engine.dispose()


async def count_questions(url: str) -> int:
    return int(await run_sql(url, select(func.count()).select_from(questions)))


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The test's database as the command line finds it: named by DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PEERVIEW_ENV", "test")
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


async def test_a_first_run_loads_the_starter_bank_and_a_second_loads_nothing(
    settings: Settings, clock: FakeClock
) -> None:
    total = len(starter_entries())
    assert await load_starter_bank(settings, clock) == total
    assert await count_questions(settings.database_url) == total
    assert await load_starter_bank(settings, clock) is None
    assert await count_questions(settings.database_url) == total


async def test_a_bank_emptied_after_the_first_run_is_not_loaded_again(
    settings: Settings, clock: FakeClock
) -> None:
    assert await load_starter_bank(settings, clock)
    await run_sql(settings.database_url, delete(questions))
    assert await load_starter_bank(settings, clock) is None
    assert await count_questions(settings.database_url) == 0


async def test_two_first_runs_at_once_load_the_bank_once(settings: Settings) -> None:
    """Two processes migrating at once (each its own event loop and connections)."""
    total = len(starter_entries())
    outcomes = await asyncio.gather(
        *(asyncio.to_thread(asyncio.run, load_starter_bank(settings)) for _ in range(2))
    )
    assert sorted(outcomes, key=str) == sorted([total, None], key=str)
    assert await count_questions(settings.database_url) == total


async def test_peerview_migrate_loads_the_bank_on_the_first_run_only(
    cli_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    total = len(starter_entries())
    assert await asyncio.to_thread(cli.main, ["migrate"]) == 0
    assert f"the starter question bank loaded ({total} questions)" in capsys.readouterr().out
    await run_sql(cli_settings.database_url, delete(questions))
    assert await asyncio.to_thread(cli.main, ["migrate"]) == 0
    assert "starter question bank" not in capsys.readouterr().out
    assert await count_questions(cli_settings.database_url) == 0


async def test_upgrading_a_database_in_use_never_loads_the_bank(tmp_path: Path) -> None:
    """A deployment made before first runs existed (it holds users) is not a first run."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'in-use.db'}"
    in_thread(upgrade, url, BEFORE_FIRST_RUN)
    clock = FakeClock()
    user = {
        "id": "00000000-0000-0000-0000-000000000001",
        "name": "Early",
        "email": "early@example.com",
        "password_hash": "x",
        "role": "INTERVIEWER",
        "created_at": clock.now(),
        "updated_at": clock.now(),
    }
    await run_sql(url, insert(table_of(User)).values(user))
    in_thread(upgrade, url)
    marked = await run_sql(url, select(app_meta.c.value).where(app_meta.c.key == "starter_bank"))
    assert marked == "skipped"
    assert await load_starter_bank(test_settings(url), clock) is None
    assert await count_questions(url) == 0


async def test_upgrading_an_empty_database_leaves_the_first_run_to_come(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    in_thread(upgrade, url, BEFORE_FIRST_RUN)
    in_thread(upgrade, url)
    assert await load_starter_bank(test_settings(url)) == len(starter_entries())
