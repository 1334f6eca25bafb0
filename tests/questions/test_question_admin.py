"""Question bank administration: create, replace, soft delete, restore (docs/api.md §6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from peerview.clock import FakeClock
from peerview.models import Question
from peerview.models.base import table_of
from tests.factories import Factory
from tests.factories import TestUser as AppUser
from tests.questions.conftest import MakeQuestion, question_body
from tests.support.sql import execute

questions = table_of(Question)


async def _stored(app: FastAPI, question_id: str) -> Any:
    async with app.services.database.transaction(write=False) as db:
        result = await execute(db, select(questions).where(questions.c.id == question_id))
        return result.mappings().first()


async def test_admin_creates_question_201(
    client: httpx.AsyncClient, admin: AppUser, clock: FakeClock
) -> None:
    response = await client.post(
        "/api/questions",
        json=question_body(category="  Graphs ", tags=["BFS", "bfs", "Grid"]),
        headers=admin.headers,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["category"] == "graphs"
    assert body["tags"] == ["bfs", "grid"]
    assert body["hints"] == ["Remember what you have seen."]
    assert body["solution"] == "One pass with a map from value to index."
    assert body["deleted_at"] is None
    assert body["created_at"] == body["updated_at"]
    assert body["created_at"].replace("Z", "+00:00") == clock.now().isoformat()
    assert set(body) == {
        "id", "title", "prompt", "category", "difficulty", "type", "tags", "hints",
        "solution", "created_at", "updated_at", "deleted_at",
    }  # fmt: skip


async def test_optional_fields_default_to_empty(client: httpx.AsyncClient, admin: AppUser) -> None:
    body = question_body()
    for field in ("tags", "hints", "solution"):
        del body[field]
    response = await client.post("/api/questions", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    assert response.json()["tags"] == []
    assert response.json()["hints"] == []
    assert response.json()["solution"] == ""


async def test_create_without_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/questions", json=question_body())
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize("role", ["interviewer", "interviewee"])
async def test_create_by_non_admin_is_403(
    client: httpx.AsyncClient, factory: Factory, role: str
) -> None:
    user = await getattr(factory, role)()
    response = await client.post("/api/questions", json=question_body(), headers=user.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


async def test_role_is_checked_before_the_body(client: httpx.AsyncClient, factory: Factory) -> None:
    interviewer = await factory.interviewer()
    response = await client.post("/api/questions", json={"title": ""}, headers=interviewer.headers)
    assert response.status_code == 403


async def test_role_is_checked_before_the_lookup(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    interviewer = await factory.interviewer()
    missing = "00000000-0000-0000-0000-000000000000"
    for method, url in [
        ("PUT", f"/api/questions/{missing}"),
        ("DELETE", f"/api/questions/{missing}"),
        ("DELETE", f"/api/questions/{missing}?hard=true"),
        ("POST", f"/api/questions/{missing}/restore"),
    ]:
        response = await client.request(
            method,
            url,
            json=question_body() if method == "PUT" else None,
            headers=interviewer.headers,
        )
        assert response.status_code == 403, (method, url)


async def test_unknown_fields_are_422(client: httpx.AsyncClient, admin: AppUser) -> None:
    response = await client.post(
        "/api/questions", json=question_body(seed_key="mine", id="x"), headers=admin.headers
    )
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"
    assert {e["field"] for e in response.json()["errors"]} == {"seed_key", "id"}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("title", ""),
        ("title", "t" * 201),
        ("prompt", ""),
        ("prompt", "p" * 10_001),
        ("category", ""),
        ("category", "c" * 65),
        ("difficulty", "TRIVIAL"),
        ("type", "TRIVIA"),
        ("tags", [f"tag{i}" for i in range(21)]),
        ("tags", ["t" * 41]),
        ("tags", [""]),
        ("hints", [f"hint {i}" for i in range(21)]),
        ("hints", ["h" * 1001]),
        ("solution", "s" * 20_001),
    ],
)
async def test_field_limits_are_422(
    client: httpx.AsyncClient, admin: AppUser, field: str, value: object
) -> None:
    response = await client.post(
        "/api/questions", json=question_body(**{field: value}), headers=admin.headers
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"].split(".")[0] == field


async def test_field_limits_allow_their_maximum(client: httpx.AsyncClient, admin: AppUser) -> None:
    body = question_body(
        title="t" * 200,
        prompt="p" * 10_000,
        category="c" * 64,
        tags=[f"{i:02d}" + "t" * 38 for i in range(20)],
        hints=["h" * 1000] * 20,
        solution="s" * 20_000,
    )
    response = await client.post("/api/questions", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text


async def test_put_replaces_every_editable_field(
    client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion, clock: FakeClock
) -> None:
    created = await question()
    clock.advance(minutes=5)
    replacement = {
        "title": "Count islands",
        "prompt": "Count the islands on a grid.",
        "category": "Graphs",
        "difficulty": "MEDIUM",
        "type": "CONCEPTUAL",
    }
    response = await client.put(
        f"/api/questions/{created['id']}", json=replacement, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Count islands"
    assert body["category"] == "graphs"
    assert (body["difficulty"], body["type"]) == ("MEDIUM", "CONCEPTUAL")
    # Full replace: what the body leaves out goes back to its default.
    assert (body["tags"], body["hints"], body["solution"]) == ([], [], "")
    assert body["created_at"] == created["created_at"]
    assert body["updated_at"].replace("Z", "+00:00") == clock.now().isoformat()


async def test_put_with_unknown_field_is_422(
    client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    created = await question()
    response = await client.put(
        f"/api/questions/{created['id']}",
        json=question_body(deleted_at=None),
        headers=admin.headers,
    )
    assert response.status_code == 422


async def test_put_invalid_body_on_unknown_question_is_422_before_404(
    client: httpx.AsyncClient, admin: AppUser
) -> None:
    response = await client.put(
        "/api/questions/nope", json=question_body(title=""), headers=admin.headers
    )
    assert response.status_code == 422


async def test_put_on_unknown_question_is_404(client: httpx.AsyncClient, admin: AppUser) -> None:
    response = await client.put("/api/questions/nope", json=question_body(), headers=admin.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "QUESTION_NOT_FOUND"


async def test_put_on_soft_deleted_question_is_404(
    client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    created = await question()
    await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
    response = await client.put(
        f"/api/questions/{created['id']}", json=question_body(), headers=admin.headers
    )
    assert response.status_code == 404
    assert response.json()["code"] == "QUESTION_NOT_FOUND"


async def test_soft_delete_is_204_and_records_when_and_who(
    client: httpx.AsyncClient,
    app: FastAPI,
    admin: AppUser,
    question: MakeQuestion,
    clock: FakeClock,
) -> None:
    created = await question()
    clock.advance(hours=1)
    response = await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
    assert response.status_code == 204
    assert response.content == b""
    row = await _stored(app, created["id"])
    assert row["deleted_at"] == clock.now()
    assert row["deleted_by_id"] == admin.id


async def test_soft_delete_twice_is_404(
    client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    created = await question()
    first = await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
    second = await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
    assert first.status_code == 204
    assert second.status_code == 404
    assert second.json()["code"] == "QUESTION_NOT_FOUND"


async def test_delete_of_unknown_question_is_404(client: httpx.AsyncClient, admin: AppUser) -> None:
    response = await client.delete("/api/questions/nope", headers=admin.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "QUESTION_NOT_FOUND"


async def test_restore_returns_the_question_200(
    client: httpx.AsyncClient, app: FastAPI, admin: AppUser, question: MakeQuestion
) -> None:
    created = await question()
    await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
    response = await client.post(f"/api/questions/{created['id']}/restore", headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["id"] == created["id"]
    assert response.json()["deleted_at"] is None
    assert response.json()["solution"] == created["solution"]
    assert (await _stored(app, created["id"]))["deleted_by_id"] is None
    listed = await client.get("/api/questions", headers=admin.headers)
    assert [q["id"] for q in listed.json()["items"]] == [created["id"]]


async def test_restore_of_question_not_deleted_is_409(
    client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    created = await question()
    response = await client.post(f"/api/questions/{created['id']}/restore", headers=admin.headers)
    assert response.status_code == 409
    assert response.json()["code"] == "QUESTION_NOT_DELETED"


async def test_restore_of_unknown_question_is_404(
    client: httpx.AsyncClient, admin: AppUser
) -> None:
    response = await client.post("/api/questions/nope/restore", headers=admin.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "QUESTION_NOT_FOUND"


async def test_openapi_lists_question_errors_and_both_views(client: httpx.AsyncClient) -> None:
    schema = (await client.get("/openapi.json")).json()
    paths = schema["paths"]
    delete = paths["/api/questions/{question_id}"]["delete"]["responses"]
    assert {"204", "401", "403", "404", "409"} <= set(delete)
    assert "HARD_DELETE_GUARDED" in delete["409"]["description"]
    restore = paths["/api/questions/{question_id}/restore"]["post"]["responses"]
    assert "QUESTION_NOT_DELETED" in restore["409"]["description"]
    detail = paths["/api/questions/{question_id}"]["get"]["responses"]["200"]
    refs = str(detail["content"]["application/json"]["schema"])
    assert "QuestionRead" in refs
    assert "QuestionPublicRead" in refs
    public = schema["components"]["schemas"]["QuestionPublicRead"]["properties"]
    assert "hints" not in public
    assert "solution" not in public
