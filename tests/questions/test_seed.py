"""The starter bank and `peerview seed-questions` (docs/api.md §6, §11)."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from peerview import cli
from peerview.config import Settings
from peerview.models import Question
from peerview.models.base import table_of
from peerview.models.enums import Difficulty, QuestionType
from peerview.questions.seed import load_starter_bank, seed_questions

questions = table_of(Question)


async def _count(settings: Settings) -> int:
    engine = create_async_engine(settings.database_url)
    try:
        async with engine.connect() as db:
            return int((await db.execute(select(func.count()).select_from(questions))).scalar_one())
    finally:
        await engine.dispose()


def test_starter_bank_has_at_least_60_questions_of_every_type_and_difficulty() -> None:
    bank = load_starter_bank()
    assert len(bank) >= 60
    kinds = Counter((q.type, q.difficulty) for q in bank)
    for kind in QuestionType:
        for difficulty in Difficulty:
            assert kinds[(kind, difficulty)] >= 4, (kind, difficulty)


def test_starter_bank_entries_are_complete_and_uniquely_keyed() -> None:
    bank = load_starter_bank()
    assert len({q.seed_key for q in bank}) == len(bank)
    assert len({q.title for q in bank}) == len(bank)
    for entry in bank:
        assert 1 <= len(entry.hints) <= 3, entry.seed_key
        assert entry.solution, entry.seed_key
        assert entry.category == entry.category.lower()


async def test_seed_questions_twice_adds_nothing_the_second_time(settings: Settings) -> None:
    total = len(load_starter_bank())
    assert await seed_questions(settings=settings) == (total, total)
    assert await seed_questions(settings=settings) == (0, total)
    assert await _count(settings) == total


async def test_seed_questions_command_loads_the_bank(
    cli_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    total = len(load_starter_bank())
    # The command runs its own event loop, as it does from a shell.
    assert await asyncio.to_thread(cli.main, ["seed-questions"]) == 0
    assert f"{total} question(s) added" in capsys.readouterr().out
    assert await _count(cli_settings) == total
    assert await asyncio.to_thread(cli.main, ["seed-questions"]) == 0
    assert f"0 question(s) added, {total} already present" in capsys.readouterr().out
