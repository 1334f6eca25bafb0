"""Loads the starter question bank shipped with Peerview."""

from __future__ import annotations

import json
from importlib import resources

from pydantic import TypeAdapter

from peerview.clock import Clock, SystemClock
from peerview.config import Settings
from peerview.db import create_database
from peerview.questions import service
from peerview.questions.schemas import StarterQuestion

STARTER_BANK = "questions.json"

_entries = TypeAdapter(list[StarterQuestion])


def load_starter_bank() -> list[StarterQuestion]:
    """The starter bank, each entry checked against the same rules as a question an admin adds."""
    raw = (
        resources.files("peerview")
        .joinpath("data")
        .joinpath(STARTER_BANK)
        .read_text(encoding="utf-8")
    )
    entries = _entries.validate_python(json.loads(raw))
    keys = [entry.seed_key for entry in entries]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise ValueError(f"duplicate seed_key in the starter bank: {', '.join(duplicates)}")
    return entries


async def seed_questions(*, settings: Settings, clock: Clock | None = None) -> tuple[int, int]:
    """Add the starter questions missing from the database: (added, total in the bank)."""
    entries = load_starter_bank()
    now = (clock or SystemClock()).now()
    database = create_database(settings)
    try:
        async with database.transaction() as db:
            added = await service.add_starter_questions(db=db, now=now, entries=entries)
    finally:
        await database.close()
    return added, len(entries)
