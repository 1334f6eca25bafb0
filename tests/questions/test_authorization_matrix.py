"""Who may call what on the question bank: every route against every kind of caller.

One table, read from SPEC §1 and §6. Targets: an "existing" question, a soft-"deleted"
one, a "missing" id; "-" for routes without an id.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from peerview.models.enums import Role
from tests.factories import Factory
from tests.factories import TestUser as AppUser
from tests.questions.conftest import MakeQuestion, question_body

CALLERS = ("anonymous", "interviewee", "interviewer", "admin")

# method, path, target: status for anonymous, interviewee, interviewer, admin
MATRIX: list[tuple[str, str, str, tuple[int, int, int, int]]] = [
    ("GET", "/api/questions", "-", (401, 200, 200, 200)),
    ("POST", "/api/questions", "-", (401, 403, 403, 201)),
    ("GET", "/api/questions/{question_id}", "existing", (401, 200, 200, 200)),
    ("GET", "/api/questions/{question_id}", "deleted", (401, 404, 404, 200)),
    ("GET", "/api/questions/{question_id}", "missing", (401, 404, 404, 404)),
    ("PUT", "/api/questions/{question_id}", "existing", (401, 403, 403, 200)),
    ("PUT", "/api/questions/{question_id}", "missing", (401, 403, 403, 404)),
    ("DELETE", "/api/questions/{question_id}", "existing", (401, 403, 403, 204)),
    ("DELETE", "/api/questions/{question_id}", "deleted", (401, 403, 403, 404)),
    ("DELETE", "/api/questions/{question_id}?hard=true", "existing", (401, 403, 403, 409)),
    ("DELETE", "/api/questions/{question_id}?hard=true", "deleted", (401, 403, 403, 204)),
    ("POST", "/api/questions/{question_id}/restore", "deleted", (401, 403, 403, 200)),
    ("POST", "/api/questions/{question_id}/restore", "existing", (401, 403, 403, 409)),
    ("POST", "/api/questions/{question_id}/restore", "missing", (401, 403, 403, 404)),
]


async def _target(
    target: str, client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> str:
    if target == "missing":
        return str(uuid.uuid4())
    created = await question()
    if target == "deleted":
        response = await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
        assert response.status_code == 204
    return str(created["id"])


async def test_question_bank_authorization_matrix(
    client: httpx.AsyncClient, factory: Factory, admin: AppUser, question: MakeQuestion
) -> None:
    mismatches = []
    callers: dict[str, AppUser | None] = {
        "anonymous": None,
        "interviewee": await factory.user(Role.INTERVIEWEE),
        "interviewer": await factory.user(Role.INTERVIEWER),
        "admin": admin,
    }
    for method, path, target, statuses in MATRIX:
        for caller, expected in zip(CALLERS, statuses, strict=True):
            question_id = "" if target == "-" else await _target(target, client, admin, question)
            kwargs: dict[str, Any] = {
                "method": method,
                "url": path.replace("{question_id}", question_id),
            }
            me = callers[caller]
            if me is not None:
                kwargs["headers"] = me.headers
            if method in ("POST", "PUT") and not path.endswith("/restore"):
                kwargs["json"] = question_body(title=f"Matrix {uuid.uuid4().hex[:8]}")
            response = await client.request(**kwargs)
            if response.status_code != expected:
                cell = f"{method} {path} [{target}] as {caller}"
                mismatches.append(f"{cell}: {response.status_code}, expected {expected}")
    assert mismatches == []


def test_matrix_lists_every_question_route(app: FastAPI) -> None:
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith("/api/questions")
        for method in operations
    }
    listed = {(method, path.split("?")[0]) for method, path, _, _ in MATRIX}
    assert routes == listed
