"""Helpers for session-question tests: bank rows inserted directly, and the three routes."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import httpx
from sqlalchemy import select

from peerview.models import Question, SessionQuestion
from peerview.models.base import new_id, table_of
from tests.factories import Factory, TestUser
from tests.support.sql import execute

questions_table = table_of(Question)
session_questions_table = table_of(SessionQuestion)
_serial = itertools.count(1)


async def bank_question(factory: Factory, **fields: Any) -> dict[str, Any]:
    """A bank question matching the default flow's session (arrays, MEDIUM, CODING).

    Each one is created a second after the previous one, so "oldest first" is well defined.
    """
    n = next(_serial)
    created_at = factory.clock.now() - timedelta(days=30) + timedelta(seconds=n)
    values: dict[str, Any] = {
        "id": new_id(),
        "title": f"Question {n}",
        "prompt": f"Prompt of question {n}.",
        "category": "arrays",
        "difficulty": "MEDIUM",
        "type": "CODING",
        "tags": [],
        "hints": [f"Hint {n}a", f"Hint {n}b"],
        "solution": f"Solution {n}.",
        "created_at": created_at,
        "updated_at": created_at,
        "deleted_at": None,
        **fields,
    }
    async with factory.app.services.database.transaction() as db:
        await execute(db, questions_table.insert().values(**values))
    return values


async def add(
    client: httpx.AsyncClient, user: TestUser, session_id: str, question_id: str
) -> httpx.Response:
    return await client.post(
        f"/api/interview-sessions/{session_id}/questions",
        json={"question_id": question_id},
        headers=user.headers,
    )


async def suggest(
    client: httpx.AsyncClient, user: TestUser, session_id: str, count: Any
) -> httpx.Response:
    return await client.post(
        f"/api/interview-sessions/{session_id}/questions/suggest",
        json={"count": count},
        headers=user.headers,
    )


async def remove(
    client: httpx.AsyncClient, user: TestUser, session_id: str, question_id: str
) -> httpx.Response:
    return await client.delete(
        f"/api/interview-sessions/{session_id}/questions/{question_id}", headers=user.headers
    )


async def session_questions(
    client: httpx.AsyncClient, user: TestUser, session_id: str
) -> list[dict[str, Any]]:
    """The session's question list as `user` reads it through the session view."""
    response = await client.get(f"/api/interview-sessions/{session_id}", headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["questions"]
    return items


async def stored_rows(factory: Factory, session_id: str) -> list[dict[str, Any]]:
    async with factory.app.services.database.transaction(write=False) as db:
        result = await execute(
            db,
            select(session_questions_table)
            .where(session_questions_table.c.session_id == session_id)
            .order_by(session_questions_table.c.position),
        )
        return [dict(r) for r in result.mappings()]
