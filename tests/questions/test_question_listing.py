"""Listing the question bank: filters, text search and cursor pagination (docs/api.md §1, §6)."""

from __future__ import annotations

import httpx
import pytest

from peerview.clock import FakeClock
from tests.factories import Factory
from tests.factories import TestUser as AppUser
from tests.questions.conftest import MakeQuestion


async def _titles(client: httpx.AsyncClient, user: AppUser, query: str) -> list[str]:
    response = await client.get(f"/api/questions?{query}", headers=user.headers)
    assert response.status_code == 200, response.text
    return sorted(q["title"] for q in response.json()["items"])


@pytest.fixture
async def bank(question: MakeQuestion) -> None:
    await question(title="Islands", category="graphs", difficulty="MEDIUM", tags=["bfs", "grid"])
    await question(title="Ladder", category="graphs", difficulty="HARD", tags=["bfs"])
    await question(title="Median", category="heaps", difficulty="HARD", tags=["Streaming"])
    await question(
        title="Leaders",
        prompt="Tell me about a time you led.",
        category="behavioral",
        type="BEHAVIORAL",
        tags=[],
    )


@pytest.mark.usefixtures("bank")
@pytest.mark.parametrize(
    ("query", "titles"),
    [
        ("category=graphs", ["Islands", "Ladder"]),
        ("category=GRAPHS", ["Islands", "Ladder"]),
        ("difficulty=HARD", ["Ladder", "Median"]),
        ("type=BEHAVIORAL", ["Leaders"]),
        ("tag=bfs", ["Islands", "Ladder"]),
        ("tag=streaming", ["Median"]),
        ("tag=STREAMING", ["Median"]),
        ("tag=bf", []),
        ("category=graphs&difficulty=HARD&tag=bfs", ["Ladder"]),
        ("category=nothing", []),
    ],
)
async def test_filters_combine(
    client: httpx.AsyncClient, factory: Factory, query: str, titles: list[str]
) -> None:
    interviewee = await factory.interviewee()
    assert await _titles(client, interviewee, query) == titles


async def test_invalid_filter_values_are_422(client: httpx.AsyncClient, factory: Factory) -> None:
    interviewer = await factory.interviewer()
    for query in ("difficulty=TRIVIAL", "type=QUIZ", "include_deleted=maybe"):
        response = await client.get(f"/api/questions?{query}", headers=interviewer.headers)
        assert response.status_code == 422, query
        assert response.json()["code"] == "VALIDATION_ERROR"


@pytest.mark.usefixtures("bank")
@pytest.mark.parametrize(
    ("q", "titles"),
    [
        ("LAD", ["Ladder"]),
        ("isl", ["Islands"]),
        ("TIME you", ["Leaders"]),
        ("target", ["Islands", "Ladder", "Median"]),
        ("zzz", []),
    ],
)
async def test_q_searches_title_and_prompt_case_insensitively(
    client: httpx.AsyncClient, factory: Factory, q: str, titles: list[str]
) -> None:
    interviewer = await factory.interviewer()
    response = await client.get("/api/questions", params={"q": q}, headers=interviewer.headers)
    assert sorted(item["title"] for item in response.json()["items"]) == titles


async def test_q_treats_like_wildcards_literally(
    client: httpx.AsyncClient, factory: Factory, question: MakeQuestion
) -> None:
    await question(title="100% uptime", prompt="Keep it up.")
    await question(title="snake_case names", prompt="Name things.")
    await question(title="Plain", prompt="Nothing special here.")
    interviewer = await factory.interviewer()
    for q, expected in [
        ("%", ["100% uptime"]),
        ("_", ["snake_case names"]),
        ("sn_ke", []),
        ("100%", ["100% uptime"]),
    ]:
        response = await client.get("/api/questions", params={"q": q}, headers=interviewer.headers)
        assert [item["title"] for item in response.json()["items"]] == expected, q


async def test_pagination_returns_every_question_once_in_order(
    client: httpx.AsyncClient, factory: Factory, question: MakeQuestion, clock: FakeClock
) -> None:
    created = []
    for i in range(7):
        created.append(await question(title=f"Question {i}"))
        # Pairs share a creation time, so the id must break the tie.
        if i % 2:
            clock.advance(seconds=1)
    expected = [q["id"] for q in sorted(created, key=lambda q: (q["created_at"], q["id"]))]
    interviewee = await factory.interviewee()
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        response = await client.get("/api/questions", params=params, headers=interviewee.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        seen.extend(q["id"] for q in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected
    assert pages == 3


async def test_default_page_size_is_20(
    client: httpx.AsyncClient, factory: Factory, question: MakeQuestion
) -> None:
    for i in range(21):
        await question(title=f"Question {i}")
    interviewer = await factory.interviewer()
    page = (await client.get("/api/questions", headers=interviewer.headers)).json()
    assert len(page["items"]) == 20
    assert page["next_cursor"] is not None


async def test_limit_above_100_is_422(client: httpx.AsyncClient, factory: Factory) -> None:
    interviewer = await factory.interviewer()
    response = await client.get("/api/questions?limit=101", headers=interviewer.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "VALIDATION_ERROR"
    ok = await client.get("/api/questions?limit=100", headers=interviewer.headers)
    assert ok.status_code == 200


async def test_foreign_cursor_is_422(client: httpx.AsyncClient, factory: Factory) -> None:
    interviewer = await factory.interviewer()
    response = await client.get("/api/questions?cursor=not-a-cursor", headers=interviewer.headers)
    assert response.status_code == 422
    assert response.json()["code"] == "INVALID_CURSOR"
