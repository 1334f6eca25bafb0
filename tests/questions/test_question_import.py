"""`POST /api/questions/import`: a list of questions, all written or none, duplicates skipped
(docs/api.md §6)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from peerview.clock import FakeClock
from peerview.models import Question
from peerview.models.base import table_of
from peerview.questions.schemas import QUESTION_IMPORT_MAX_ITEMS
from tests.factories import Factory
from tests.factories import TestUser as AppUser
from tests.platform.apps import assert_problem
from tests.questions.conftest import MakeQuestion, question_body
from tests.security.support import openapi, snapshot
from tests.support.sql import execute

questions = table_of(Question)
URL = "/api/questions/import"


def items(*titles: str, **overrides: Any) -> list[dict[str, Any]]:
    return [question_body(title=title, **overrides) for title in titles]


async def send(client: httpx.AsyncClient, user: AppUser, body: Any) -> httpx.Response:
    return await client.post(URL, json=body, headers=user.headers)


async def imported(client: httpx.AsyncClient, user: AppUser, body: Any) -> dict[str, Any]:
    response = await send(client, user, body)
    assert response.status_code in (200, 201), response.text
    result: dict[str, Any] = response.json()
    return result


async def stored_rows(app: FastAPI) -> list[Any]:
    async with app.services.database.transaction(write=False) as db:
        result = await execute(db, select(questions).order_by(questions.c.title))
        return list(result.mappings().all())


async def bank_size(app: FastAPI) -> int:
    async with app.services.database.transaction(write=False) as db:
        result = await execute(db, select(func.count()).select_from(questions))
        return int(result.scalar_one())


def outcomes(result: dict[str, Any]) -> list[tuple[int, str, str | None]]:
    return [(item["index"], item["outcome"], item["reason"]) for item in result["items"]]


async def test_import_creates_every_new_question_in_order_201(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser, clock: FakeClock
) -> None:
    body = [
        question_body(title="Two sum"),
        question_body(
            title="  Design a URL shortener ",
            category="  System-Design",
            difficulty="HARD",
            type="SYSTEM_DESIGN",
            tags=["Scale", "scale", "hashing"],
            hints=[],
            solution="",
        ),
        question_body(title="Tell me about a conflict", type="BEHAVIORAL", category="people"),
    ]
    response = await send(client, admin, body)
    assert response.status_code == 201, response.text
    result = response.json()
    assert set(result) == {"created", "skipped", "items"}
    assert (result["created"], result["skipped"]) == (3, 0)
    assert outcomes(result) == [(0, "created", None), (1, "created", None), (2, "created", None)]
    assert [(i["title"], i["category"]) for i in result["items"]] == [
        ("Two sum", "arrays"),
        ("Design a URL shortener", "system-design"),
        ("Tell me about a conflict", "people"),
    ]
    ids = [item["id"] for item in result["items"]]
    assert len(set(ids)) == 3
    # Each is stored as POST /api/questions would store it, by the importing admin, now.
    second = (await client.get(f"/api/questions/{ids[1]}", headers=admin.headers)).json()
    assert second["category"] == "system-design"
    assert second["tags"] == ["scale", "hashing"]
    assert (second["difficulty"], second["type"]) == ("HARD", "SYSTEM_DESIGN")
    assert second["created_at"].replace("Z", "+00:00") == clock.now().isoformat()
    rows = {row["id"]: row for row in await stored_rows(app)}
    assert set(rows) == set(ids)
    assert {row["created_by_id"] for row in rows.values()} == {admin.id}
    assert {row["seed_key"] for row in rows.values()} == {None}
    listed = await client.get("/api/questions", headers=admin.headers)
    assert {q["id"] for q in listed.json()["items"]} == set(ids)


async def test_an_item_matching_a_question_of_the_bank_is_skipped_with_its_id(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    existing = await question(title="Two sum", category="arrays")
    result = await imported(client, admin, items("Two sum", "Three sum"))
    assert outcomes(result) == [(0, "skipped", "exists"), (1, "created", None)]
    assert result["items"][0]["id"] == existing["id"]
    assert (result["created"], result["skipped"]) == (1, 1)
    assert await bank_size(app) == 2
    # The skipped item changed nothing of the question it matched.
    kept = (await client.get(f"/api/questions/{existing['id']}", headers=admin.headers)).json()
    assert kept == existing


async def test_the_title_matches_whatever_its_case_and_white_space_the_category_as_stored(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    existing = await question(title="Two Sum", category="arrays")
    body = [
        question_body(title="  two   SUM ", category="arrays"),  # the same question
        question_body(title="TWO\tsum", category=" ARRAYS "),  # the same question
        question_body(title="Two Sum", category="hashing"),  # another category
        question_body(title="Two Sums", category="arrays"),  # another title
        question_body(title="Two-Sum", category="arrays"),  # another title
    ]
    result = await imported(client, admin, body)
    assert outcomes(result) == [
        (0, "skipped", "exists"),
        (1, "skipped", "exists"),
        (2, "created", None),
        (3, "created", None),
        (4, "created", None),
    ]
    assert [item["id"] for item in result["items"][:2]] == [existing["id"]] * 2
    assert await bank_size(app) == 4


async def test_an_item_repeating_an_item_created_earlier_is_skipped_and_points_at_it(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    existing = await question(title="Known")
    body = items("Fresh", "Other", "fresh ", "Known", "KNOWN")
    result = await imported(client, admin, body)
    assert outcomes(result) == [
        (0, "created", None),
        (1, "created", None),
        (2, "skipped", "repeated"),
        (3, "skipped", "exists"),
        (4, "skipped", "exists"),  # repeats item 3, but the bank is what it duplicates
    ]
    ids = [item["id"] for item in result["items"]]
    assert ids[2] == ids[0]
    assert ids[3] == ids[4] == existing["id"]
    assert (result["created"], result["skipped"]) == (2, 3)
    assert sorted(row["title"] for row in await stored_rows(app)) == ["Fresh", "Known", "Other"]


async def test_an_item_matching_a_soft_deleted_question_is_skipped_and_it_stays_deleted(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    deleted = await question(title="Retired")
    gone = await client.delete(f"/api/questions/{deleted['id']}", headers=admin.headers)
    assert gone.status_code == 204
    result = await imported(client, admin, items("Retired"))
    assert outcomes(result) == [(0, "skipped", "exists_deleted")]
    assert result["items"][0]["id"] == deleted["id"]
    assert await bank_size(app) == 1
    read = await client.get(f"/api/questions/{deleted['id']}", headers=admin.headers)
    assert read.json()["deleted_at"] is not None


async def test_a_question_still_in_the_bank_is_preferred_to_a_deleted_twin(
    client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    deleted = await question(title="Twice")
    await client.delete(f"/api/questions/{deleted['id']}", headers=admin.headers)
    active = await question(title="Twice")
    result = await imported(client, admin, items("Twice"))
    assert outcomes(result) == [(0, "skipped", "exists")]
    assert result["items"][0]["id"] == active["id"]


async def test_a_question_deleted_for_good_is_imported_again(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser, question: MakeQuestion
) -> None:
    purged = await question(title="Purged")
    await client.delete(f"/api/questions/{purged['id']}", headers=admin.headers)
    hard = await client.delete(f"/api/questions/{purged['id']}?hard=true", headers=admin.headers)
    assert hard.status_code == 204
    result = await imported(client, admin, items("Purged"))
    assert outcomes(result) == [(0, "created", None)]
    assert result["items"][0]["id"] != purged["id"]
    assert await bank_size(app) == 1


async def test_importing_the_same_list_again_skips_every_item_200(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser
) -> None:
    body = items("One", "Two", "Three")
    first = await send(client, admin, body)
    assert first.status_code == 201, first.text
    before = await snapshot(app)
    again = await send(client, admin, body)
    assert again.status_code == 200, again.text
    result = again.json()
    assert (result["created"], result["skipped"]) == (0, 3)
    assert outcomes(result) == [(i, "skipped", "exists") for i in range(3)]
    assert [i["id"] for i in result["items"]] == [i["id"] for i in first.json()["items"]]
    assert await snapshot(app) == before


async def test_an_invalid_item_at_index_3_is_422_naming_3_difficulty_and_writes_nothing(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser
) -> None:
    body = items("A", "B", "C", "D", "E")
    body[3]["difficulty"] = "IMPOSSIBLE"
    before = await snapshot(app)
    problem = assert_problem(await send(client, admin, body), 422, "VALIDATION_ERROR")
    assert [(e["field"], e["location"], e["type"]) for e in problem["errors"]] == [
        ("3.difficulty", "body", "enum")
    ]
    assert "EASY" in problem["errors"][0]["message"]
    assert problem["detail"] == "Invalid input: 3.difficulty"
    assert await snapshot(app) == before
    # The same list with the item put right is written whole.
    body[3]["difficulty"] = "HARD"
    assert (await send(client, admin, body)).status_code == 201
    assert await bank_size(app) == 5


async def test_every_invalid_item_is_named_by_its_index_and_field(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser
) -> None:
    body = items("A", "B", "C", "D", "E")
    del body[0]["title"]
    body[2]["tags"] = ["ok", "x" * 41]
    body[4]["id"] = "00000000-0000-4000-8000-00000000beef"  # a client never sets an id
    body[1] = "not a question"  # type: ignore[call-overload]
    before = await snapshot(app)
    problem = assert_problem(await send(client, admin, body), 422, "VALIDATION_ERROR")
    found = {(e["field"], e["type"]) for e in problem["errors"]}
    assert found == {
        ("0.title", "missing"),
        ("1", "model_attributes_type"),
        ("2.tags.1", "string_too_long"),
        ("4.id", "extra_forbidden"),
    }
    assert await snapshot(app) == before


@pytest.mark.parametrize("role", ["interviewer", "interviewee"])
async def test_anyone_but_an_admin_is_403_whatever_the_body(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory, role: str
) -> None:
    user = await getattr(factory, role)()
    before = await snapshot(app)
    for body in (items("Sneaky"), [{"difficulty": "nope"}], [], {"not": "a list"}):
        assert_problem(await send(client, user, body), 403, "FORBIDDEN")
    assert await snapshot(app) == before


async def test_without_a_token_it_is_401(app: FastAPI, client: httpx.AsyncClient) -> None:
    before = await snapshot(app)
    assert_problem(await client.post(URL, json=items("Anonymous")), 401, "NOT_AUTHENTICATED")
    assert await snapshot(app) == before


async def test_an_empty_list_is_422_naming_the_body(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser
) -> None:
    problem = assert_problem(await send(client, admin, []), 422, "VALIDATION_ERROR")
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [("body", "too_short")]
    assert await bank_size(app) == 0


async def test_more_items_than_the_maximum_is_422_and_the_maximum_is_accepted(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser
) -> None:
    assert QUESTION_IMPORT_MAX_ITEMS == 500  # as docs/api.md §6 says
    titles = [f"Question {n}" for n in range(QUESTION_IMPORT_MAX_ITEMS + 1)]
    problem = assert_problem(await send(client, admin, items(*titles)), 422, "VALIDATION_ERROR")
    assert [(e["field"], e["type"]) for e in problem["errors"]] == [("body", "too_long")]
    assert str(QUESTION_IMPORT_MAX_ITEMS) in problem["errors"][0]["message"]
    assert await bank_size(app) == 0
    result = await imported(client, admin, items(*titles[:-1]))
    assert result["created"] == QUESTION_IMPORT_MAX_ITEMS
    assert await bank_size(app) == QUESTION_IMPORT_MAX_ITEMS


@pytest.mark.parametrize(
    "body",
    [question_body(), {"items": [question_body()]}, "Two sum", 3, None],
    ids=["one-question-object", "wrapped-list", "string", "number", "null"],
)
async def test_a_body_that_is_not_a_list_is_422_naming_the_body(
    app: FastAPI, client: httpx.AsyncClient, admin: AppUser, body: Any
) -> None:
    problem = assert_problem(await send(client, admin, body), 422, "VALIDATION_ERROR")
    assert {e["field"] for e in problem["errors"]} == {"body"}
    assert await bank_size(app) == 0


async def test_openapi_documents_the_import(client: httpx.AsyncClient) -> None:
    schema = await openapi(client)
    operation = schema["paths"][URL]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    assert body["items"] == {"$ref": "#/components/schemas/QuestionCreate"}
    assert (body["minItems"], body["maxItems"]) == (1, QUESTION_IMPORT_MAX_ITEMS)
    result = {"$ref": "#/components/schemas/QuestionImportResult"}
    for status in ("200", "201"):
        assert operation["responses"][status]["content"]["application/json"]["schema"] == result
    for status, code in (("403", "FORBIDDEN"), ("422", "VALIDATION_ERROR")):
        assert f"`{code}`" in operation["responses"][status]["description"]
    assert "`TOO_MANY_REQUESTS`" in operation["responses"]["429"]["description"]
    item = schema["components"]["schemas"]["QuestionImportItem"]
    assert set(item["required"]) == {"index", "outcome", "id", "title", "category", "reason"}
