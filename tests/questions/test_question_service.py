"""What the question service offers session questions: active lookups and candidates."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from peerview.clock import FakeClock
from peerview.questions import service
from tests.factories import TestUser as AppUser
from tests.questions.conftest import MakeQuestion


async def test_get_active_returns_the_full_question(app: FastAPI, question: MakeQuestion) -> None:
    created = await question()
    async with app.services.database.transaction(write=False) as db:
        row = await service.get_active(db, created["id"])
    assert row is not None
    assert row.hints == created["hints"]
    assert row.solution == created["solution"]


async def test_get_active_ignores_deleted_and_unknown_questions(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    created = await question()
    await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
    async with app.services.database.transaction(write=False) as db:
        assert await service.get_active(db, created["id"]) is None
        assert await service.get_active(db, "nope") is None


async def test_list_candidates_matches_kind_excludes_ids_oldest_first(
    app: FastAPI,
    client: httpx.AsyncClient,
    admin: AppUser,
    question: MakeQuestion,
    clock: FakeClock,
) -> None:
    match = {"category": "graphs", "difficulty": "MEDIUM", "type": "CODING"}
    first = await question(title="First", **match)
    clock.advance(seconds=1)
    excluded = await question(title="Excluded", **match)
    clock.advance(seconds=1)
    deleted = await question(title="Deleted", **match)
    clock.advance(seconds=1)
    third = await question(title="Third", **match)
    clock.advance(seconds=1)
    fourth = await question(title="Fourth", **match)
    await question(title="Other category", **{**match, "category": "arrays"})
    await question(title="Other difficulty", **{**match, "difficulty": "HARD"})
    await question(title="Other type", **{**match, "type": "CONCEPTUAL"})
    await client.delete(f"/api/questions/{deleted['id']}", headers=admin.headers)

    async with app.services.database.transaction(write=False) as db:
        rows = await service.list_candidates(
            db,
            category="graphs",
            difficulty="MEDIUM",
            type="CODING",
            exclude_ids={excluded["id"]},
            limit=3,
        )
        everything = await service.list_candidates(
            db, category="graphs", difficulty="MEDIUM", type="CODING", exclude_ids=(), limit=10
        )
    assert [r.id for r in rows] == [first["id"], third["id"], fourth["id"]]
    assert rows[0].solution == first["solution"]  # the full question, solution included
    assert len(everything) == 4
