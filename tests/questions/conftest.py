"""Question helpers: an admin, one-line creation of bank questions through the API, and the
test's database for the command line."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx
import pytest

from peerview.config import Settings, get_settings
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
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """The test's database as the command line finds it: named by DATABASE_URL."""
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("PEERVIEW_ENV", "test")
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


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
