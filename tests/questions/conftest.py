"""Question helpers: an admin, and one-line creation of bank questions through the API."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests.factories import Factory, TestUser

MakeQuestion = Callable[..., Awaitable[dict[str, Any]]]


def question_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "Pair with a target sum",
        "prompt": "Find two numbers that add up to a target.",
        "category": "arrays",
        "difficulty": "EASY",
        "type": "CODING",
        "tags": ["hash-map"],
        "hints": ["Remember what you have seen."],
        "solution": "One pass with a map from value to index.",
    }
    body.update(overrides)
    return body


@pytest.fixture
async def admin(factory: Factory) -> TestUser:
    return await factory.admin()


@pytest.fixture
def question(client: httpx.AsyncClient, admin: TestUser) -> MakeQuestion:
    """`await question(title=...)` adds a question as an admin and returns its JSON."""

    async def make(**overrides: Any) -> dict[str, Any]:
        response = await client.post(
            "/api/questions", json=question_body(**overrides), headers=admin.headers
        )
        assert response.status_code == 201, response.text
        created: dict[str, Any] = response.json()
        return created

    return make
