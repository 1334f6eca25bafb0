"""Regressions found by the contract fuzzing: error answers match the documented problem schemas.

Every 422 is documented as a ValidationProblem, so every 422 carries `errors` naming the
input at fault; a body that is not even text is invalid input like any malformed JSON.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.factories import Factory
from tests.flow import post_request
from tests.platform.apps import assert_problem

VALIDATION_ERROR_KEYS = {"field", "location", "message", "type"}


def assert_names(response: httpx.Response, code: str, field: str, location: str) -> None:
    body = assert_problem(response, 422, code)
    assert body["errors"], body
    for error in body["errors"]:
        assert error.keys() == VALIDATION_ERROR_KEYS, error
        assert all(isinstance(value, str) for value in error.values()), error
    assert {(e["field"], e["location"]) for e in body["errors"]} == {(field, location)}, body


@pytest.mark.parametrize(
    "path", ["/api/auth/register", "/api/auth/login", "/api/interview-requests", "/api/feedback"]
)
async def test_a_body_that_is_not_utf8_is_a_422_validation_problem(
    client: httpx.AsyncClient, factory: Factory, path: str
) -> None:
    user = await factory.interviewee()
    response = await client.post(
        path,
        content=b"\xff\xfe{\x80}",
        headers={**user.headers, "Content-Type": "application/json"},
    )
    assert_names(response, "VALIDATION_ERROR", "body", "body")


async def test_malformed_json_is_a_422_validation_problem(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.interviewee()
    response = await client.post(
        "/api/interview-requests",
        content=b'{"category": ',
        headers={**user.headers, "Content-Type": "application/json"},
    )
    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert body["errors"][0]["location"] == "body"


@pytest.mark.parametrize(
    "path",
    [
        "/api/questions",
        "/api/interview-requests/mine",
        "/api/interview-sessions",
        "/api/notifications",
        "/api/feedback/received",
    ],
)
async def test_an_invalid_cursor_is_a_validation_problem_naming_the_cursor(
    client: httpx.AsyncClient, factory: Factory, path: str
) -> None:
    user = await factory.interviewee()
    response = await client.get(path, params={"cursor": "¬"}, headers=user.headers)
    assert_names(response, "INVALID_CURSOR", "cursor", "query")


async def test_a_schedule_too_soon_is_a_validation_problem_naming_scheduled_at(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.interviewee()
    body = {
        "category": "arrays",
        "difficulty": "EASY",
        "scheduled_at": (factory.clock.now() + timedelta(hours=1)).isoformat(),
    }
    response = await client.post("/api/interview-requests", json=body, headers=user.headers)
    assert_names(response, "SCHEDULE_TOO_SOON", "scheduled_at", "body")


async def test_a_schedule_too_far_is_a_validation_problem_naming_scheduled_at(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.interviewee()
    body = {
        "category": "arrays",
        "difficulty": "EASY",
        "scheduled_at": (factory.clock.now() + timedelta(days=61)).isoformat(),
    }
    response = await client.post("/api/interview-requests", json=body, headers=user.headers)
    assert_names(response, "SCHEDULE_TOO_FAR", "scheduled_at", "body")


async def test_an_inverted_period_is_a_validation_problem_naming_from(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.interviewee()
    now = factory.clock.now()
    params = {"from": now.isoformat(), "to": (now - timedelta(days=1)).isoformat()}
    response = await client.get("/api/analytics/me", params=params, headers=user.headers)
    assert_names(response, "INVALID_PERIOD", "from", "query")


async def test_a_wrong_current_password_is_a_validation_problem_naming_it(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.interviewee()
    response = await client.patch(
        "/api/users/me",
        json={"password": "a new password 123", "current_password": "not the password"},
        headers=user.headers,
    )
    assert_names(response, "INVALID_CURRENT_PASSWORD", "current_password", "body")


async def test_a_valid_request_is_still_created(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # The 422 changes touch every AppError: a success path stays a success.
    created = await post_request(factory, await factory.interviewee())
    assert created["status"] == "OPEN"
