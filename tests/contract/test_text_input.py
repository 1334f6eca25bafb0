"""Regressions found by the contract fuzzing on PostgreSQL: text with U+0000 is never a 500.

PostgreSQL cannot store the NUL character, so fuzzed text holding it failed there with 500
while SQLite stored it. A body field holding it is refused naming the field on both
databases.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
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
