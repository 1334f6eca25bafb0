"""Regressions found by the contract fuzzing on PostgreSQL: text with U+0000 is never a 500.

PostgreSQL cannot store the NUL character, so fuzzed text holding it failed there with 500
while SQLite stored it. A body field holding it is refused naming the field on both
databases; in a path or query it is invalid input (422) where the database refuses it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Factory
from tests.flow import completed
from tests.platform.apps import assert_problem
from tests.security.support import snapshot

NUL = "a\x00b"


async def _bodies(factory: Factory) -> list[tuple[str, str, dict[str, str], dict[str, Any], str]]:
    """(method, url, headers, body with NUL, field) for a spread of bodies and field kinds."""
    admin = await factory.admin()
    interviewee = await factory.interviewee()
    done = await completed(factory)
    scheduled_at = (factory.clock.now() + timedelta(days=2)).isoformat()
    question = {
        "title": "T",
        "prompt": "P",
        "category": "arrays",
        "difficulty": "EASY",
        "type": "CODING",
    }
    ratings = {"communication": 3, "problem_solving": 3, "technical": 3, "overall": 3}
    register = {
        "email": "n@example.com",
        "password": "correct horse battery",
        "role": "INTERVIEWEE",
    }
    return [
        ("POST", "/api/auth/register", {}, {**register, "name": NUL}, "name"),
        ("POST", "/api/auth/login", {}, {"email": NUL, "password": "x"}, "email"),
        ("PATCH", "/api/users/me", interviewee.headers, {"name": NUL}, "name"),
        (
            "POST",
            "/api/interview-requests",
            interviewee.headers,
            {"category": "arrays", "difficulty": "EASY", "scheduled_at": scheduled_at, "note": NUL},
            "note",
        ),
        ("POST", "/api/questions", admin.headers, {**question, "title": NUL}, "title"),
        ("POST", "/api/questions", admin.headers, {**question, "tags": ["ok", NUL]}, "tags"),
        (
            "POST",
            "/api/feedback",
            done.interviewee.headers,
            {"session_id": done.id, "ratings": ratings, "comments": NUL},
            "comments",
        ),
    ]


async def test_a_nul_character_in_a_body_field_is_422_naming_it(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    for method, url, headers, body, field in await _bodies(factory):
        before = await snapshot(app)
        response = await client.request(method, url, json=body, headers=headers)
        problem = assert_problem(response, 422, "VALIDATION_ERROR")
        assert [e["field"] for e in problem["errors"]] == [field], (url, problem)
        assert await snapshot(app) == before, url


@pytest.mark.parametrize(
    "url",
    [
        "/api/questions?q=a%00b",
        "/api/questions?category=a%00b",
        "/api/questions/a%00b",
        "/api/interview-requests/a%00b",
        "/api/interview-sessions/a%00b",
        "/api/users/a%00b",
        "/api/feedback/session/a%00b",
    ],
)
async def test_a_nul_character_in_a_path_or_query_is_never_a_server_error(
    client: httpx.AsyncClient, factory: Factory, url: str
) -> None:
    admin = await factory.admin()
    response = await client.get(url, headers=admin.headers)
    # SQLite can compare such text (nothing matches); PostgreSQL refuses it as invalid input.
    assert response.status_code in (200, 404, 422), response.text
    if response.status_code == 422:
        assert assert_problem(response, 422, "VALIDATION_ERROR")["errors"]


async def test_a_nul_character_in_the_oauth2_form_is_never_a_server_error(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/api/auth/token", data={"username": NUL, "password": "x"})
    assert response.status_code in (401, 422), response.text
