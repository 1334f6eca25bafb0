"""The rules of starting practice sessions (docs/api.md §13.2): one live at a time, a daily
limit, both under concurrent calls."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Factory
from tests.practice.support import CATEGORY, practice_question, start, started

BODY = {"category": CATEGORY, "difficulty": "MEDIUM", "type": "CODING"}


async def end(client: httpx.AsyncClient, headers: dict[str, str], session_id: str) -> None:
    response = await client.post(f"/api/interview-sessions/{session_id}/end", headers=headers)
    assert response.status_code == 200, response.text


async def test_one_live_practice_session_at_a_time(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    for _ in range(2):
        await practice_question(factory)
    user = await factory.interviewee()
    first = await started(factory, user)
    refused = await start(factory, user, expect=409)
    assert refused.json()["code"] == "PRACTICE_IN_PROGRESS"
    await end(client, user.headers, first["session"]["id"])
    await start(factory, user)


async def test_a_live_practice_session_past_its_hard_end_no_longer_holds_the_next(
    factory: Factory,
) -> None:
    for _ in range(2):
        await practice_question(factory)
    user = await factory.interviewee()
    await started(factory, user, duration_minutes=15)
    factory.clock.advance(minutes=15 + 30)  # the hard end: COMPLETED by read-time truth
    await start(factory, user)


async def test_the_daily_limit_counts_practice_sessions_started_that_utc_day(
    factory: Factory, app: FastAPI, client: httpx.AsyncClient
) -> None:
    app.services.settings.ai_sessions_per_user_per_day = 2  # type: ignore[attr-defined]
    for _ in range(4):
        await practice_question(factory)
    factory.clock.set(datetime(2027, 3, 9, 22, 0, tzinfo=UTC))
    user = await factory.interviewee()
    for _ in range(2):
        body = await started(factory, user)
        await end(client, user.headers, body["session"]["id"])
    refused = await start(factory, user, expect=429)
    problem = refused.json()
    assert problem["code"] == "PRACTICE_LIMIT_REACHED"
    assert refused.headers["Retry-After"] == str(2 * 3600 + 1)
    # Another user has a limit of their own; the next UTC day starts afresh.
    await start(factory, await factory.interviewee())
    factory.clock.set(datetime(2027, 3, 10, 0, 0, tzinfo=UTC))
    await start(factory, user)


async def test_zero_sessions_a_day_turns_practice_off(factory: Factory, app: FastAPI) -> None:
    app.services.settings.ai_sessions_per_user_per_day = 0  # type: ignore[attr-defined]
    await practice_question(factory)
    refused = await start(factory, await factory.interviewee(), expect=429)
    assert refused.json()["code"] == "PRACTICE_LIMIT_REACHED"


async def test_concurrent_starts_make_exactly_one_practice_session(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    for _ in range(6):
        await practice_question(factory)
    user = await factory.interviewee()
    answers = await asyncio.gather(
        *(client.post("/api/practice-sessions", json=BODY, headers=user.headers) for _ in range(6))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201, 409, 409, 409, 409, 409], [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"PRACTICE_IN_PROGRESS"}
    listed = (await client.get("/api/interview-sessions", headers=user.headers)).json()
    assert len(listed["items"]) == 1


async def test_only_interviewees_start_practice_sessions(factory: Factory) -> None:
    await practice_question(factory)
    for user in (await factory.interviewer(), await factory.admin()):
        refused = await start(factory, user, expect=403)
        assert refused.json()["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    "change",
    [
        {"duration_minutes": 14},
        {"duration_minutes": 121},
        {"difficulty": "IMPOSSIBLE"},
        {"category": ""},
        {"status": "LIVE"},
    ],
)
async def test_a_bad_start_is_422_and_starts_nothing(
    factory: Factory, client: httpx.AsyncClient, change: dict[str, object]
) -> None:
    await practice_question(factory)
    user = await factory.interviewee()
    refused = await client.post(
        "/api/practice-sessions", json={**BODY, **change}, headers=user.headers
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["code"] == "VALIDATION_ERROR"
    listed = (await client.get("/api/interview-sessions", headers=user.headers)).json()
    assert listed["items"] == []


async def test_a_category_is_matched_whatever_its_case(factory: Factory) -> None:
    question = await practice_question(factory)
    body = await started(factory, await factory.interviewee(), category=CATEGORY.upper())
    assert body["session"]["category"] == CATEGORY
    assert body["session"]["questions"][0]["question_id"] == question["id"]
    assert body["session"]["scheduled_at"] == body["session"]["started_at"]
    planned = datetime.fromisoformat(body["session"]["planned_end_at"])
    assert planned - datetime.fromisoformat(body["session"]["started_at"]) == timedelta(minutes=45)
