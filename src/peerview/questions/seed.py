"""Loads the starter question bank shipped with Peerview."""

from __future__ import annotations

from peerview.config import Settings


async def seed_questions(*, settings: Settings) -> tuple[int, int]:
    raise NotImplementedError
