"""Helpers for feedback tests: leave feedback, read the lists, count stored rows."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import func, select

from peerview.models import Feedback
from peerview.models.base import table_of
from tests.factories import Factory, TestUser
from tests.support.sql import execute

feedback_table = table_of(Feedback)
RATINGS = {"communication": 4, "problem_solving": 3, "technical": 5, "overall": 4}
SEALED_FIELDS = {"id", "author_role", "hidden"}
FULL_FIELDS = {
    "id",
    "session_id",
    "author",
    "subject",
    "author_role",
    "ratings",
    "comments",
    "created_at",
}


def body(session_id: str, **fields: Any) -> dict[str, Any]:
    return {"session_id": session_id, "ratings": RATINGS, "comments": "Clear and kind.", **fields}


async def give(
    client: httpx.AsyncClient, user: TestUser, session_id: str, **fields: Any
) -> httpx.Response:
    return await client.post("/api/feedback", json=body(session_id, **fields), headers=user.headers)


async def given(client: httpx.AsyncClient, user: TestUser, session_id: str, **fields: Any) -> Any:
    response = await give(client, user, session_id, **fields)
    assert response.status_code == 201, response.text
    return response.json()


async def session_list(
    client: httpx.AsyncClient, user: TestUser, session_id: str, **params: Any
) -> httpx.Response:
    return await client.get(
        f"/api/feedback/session/{session_id}", params=params, headers=user.headers
    )


async def session_items(client: httpx.AsyncClient, user: TestUser, session_id: str) -> Any:
    response = await session_list(client, user, session_id)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def received(client: httpx.AsyncClient, user: TestUser, **params: Any) -> httpx.Response:
    return await client.get("/api/feedback/received", params=params, headers=user.headers)


async def received_items(client: httpx.AsyncClient, user: TestUser) -> Any:
    response = await received(client, user)
    assert response.status_code == 200, response.text
    return response.json()["items"]


def sealed(feedback: dict[str, Any]) -> dict[str, Any]:
    return {"id": feedback["id"], "author_role": feedback["author_role"], "hidden": True}


async def stored_count(factory: Factory, session_id: str) -> int:
    async with factory.app.services.database.transaction(write=False) as db:
        result = await execute(
            db, select(func.count()).where(feedback_table.c.session_id == session_id)
        )
        return int(result.scalar_one())
