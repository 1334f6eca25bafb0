"""Who sees which questions and which of their fields (docs/api.md §6)."""

from __future__ import annotations

import httpx
import pytest

from tests.factories import Factory
from tests.factories import TestUser as AppUser
from tests.questions.conftest import MakeQuestion

ANSWERS = {"hints", "solution"}


async def test_listing_questions_without_token_is_401(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/questions")
    assert response.status_code == 401
    assert response.json()["code"] == "NOT_AUTHENTICATED"


async def test_reading_a_question_without_token_is_401(
    client: httpx.AsyncClient, question: MakeQuestion
) -> None:
    created = await question()
    response = await client.get(f"/api/questions/{created['id']}")
    assert response.status_code == 401


async def test_interviewee_never_sees_hints_or_solution_in_detail(
    client: httpx.AsyncClient, factory: Factory, question: MakeQuestion
) -> None:
    created = await question()
    interviewee = await factory.interviewee()
    response = await client.get(f"/api/questions/{created['id']}", headers=interviewee.headers)
    assert response.status_code == 200
    body = response.json()
    assert not ANSWERS & set(body)
    assert body["title"] == created["title"]
    assert body["prompt"] == created["prompt"]
    assert '"hints"' not in response.text
    assert '"solution"' not in response.text


async def test_interviewee_never_sees_hints_or_solution_in_list(
    client: httpx.AsyncClient, factory: Factory, question: MakeQuestion
) -> None:
    await question()
    await question(title="Another")
    interviewee = await factory.interviewee()
    response = await client.get("/api/questions", headers=interviewee.headers)
    assert response.status_code == 200
    items = response.json()["items"]
    assert len(items) == 2
    for item in items:
        assert not ANSWERS & set(item)
    assert '"hints"' not in response.text
    assert '"solution"' not in response.text


@pytest.mark.parametrize("role", ["interviewer", "admin"])
async def test_interviewers_and_admins_see_hints_and_solution(
    client: httpx.AsyncClient, factory: Factory, question: MakeQuestion, role: str
) -> None:
    created = await question()
    user = await getattr(factory, role)()
    detail = await client.get(f"/api/questions/{created['id']}", headers=user.headers)
    listed = await client.get("/api/questions", headers=user.headers)
    assert detail.json()["hints"] == created["hints"]
    assert detail.json()["solution"] == created["solution"]
    assert listed.json()["items"][0]["solution"] == created["solution"]


async def test_unknown_question_is_404(client: httpx.AsyncClient, factory: Factory) -> None:
    interviewer = await factory.interviewer()
    response = await client.get("/api/questions/nope", headers=interviewer.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "QUESTION_NOT_FOUND"


@pytest.mark.parametrize("role", ["interviewer", "interviewee"])
async def test_soft_deleted_question_is_404_for_non_admins(
    client: httpx.AsyncClient,
    factory: Factory,
    admin: AppUser,
    question: MakeQuestion,
    role: str,
) -> None:
    created = await question()
    await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
    user = await getattr(factory, role)()
    response = await client.get(f"/api/questions/{created['id']}", headers=user.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "QUESTION_NOT_FOUND"


async def test_admin_reads_soft_deleted_question(
    client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    created = await question()
    await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
    response = await client.get(f"/api/questions/{created['id']}", headers=admin.headers)
    assert response.status_code == 200
    assert response.json()["deleted_at"] is not None


@pytest.mark.parametrize("role", ["interviewer", "interviewee", "admin"])
async def test_soft_deleted_questions_are_not_listed_by_default(
    client: httpx.AsyncClient,
    factory: Factory,
    admin: AppUser,
    question: MakeQuestion,
    role: str,
) -> None:
    kept = await question(title="Kept")
    gone = await question(title="Gone")
    await client.delete(f"/api/questions/{gone['id']}", headers=admin.headers)
    user = admin if role == "admin" else await getattr(factory, role)()
    response = await client.get("/api/questions", headers=user.headers)
    assert [q["id"] for q in response.json()["items"]] == [kept["id"]]


async def test_admin_lists_soft_deleted_with_include_deleted(
    client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    kept = await question(title="Kept")
    gone = await question(title="Gone")
    await client.delete(f"/api/questions/{gone['id']}", headers=admin.headers)
    response = await client.get("/api/questions?include_deleted=true", headers=admin.headers)
    assert response.status_code == 200
    items = {q["id"]: q for q in response.json()["items"]}
    assert set(items) == {kept["id"], gone["id"]}
    assert items[gone["id"]]["deleted_at"] is not None


@pytest.mark.parametrize("role", ["interviewer", "interviewee"])
async def test_include_deleted_by_non_admin_is_403(
    client: httpx.AsyncClient, factory: Factory, role: str
) -> None:
    user = await getattr(factory, role)()
    response = await client.get("/api/questions?include_deleted=true", headers=user.headers)
    assert response.status_code == 403
    assert response.json()["code"] == "FORBIDDEN"


async def test_include_deleted_false_is_allowed_for_anyone(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    interviewee = await factory.interviewee()
    response = await client.get("/api/questions?include_deleted=false", headers=interviewee.headers)
    assert response.status_code == 200


async def test_include_deleted_403_comes_before_422(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    interviewer = await factory.interviewer()
    response = await client.get(
        "/api/questions?include_deleted=true&limit=101", headers=interviewer.headers
    )
    assert response.status_code == 403
