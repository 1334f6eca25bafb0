"""Regressions found by the contract fuzzing: error answers match the documented problem schemas.

A body that is not even text is invalid input like any malformed JSON.
"""

from __future__ import annotations

import httpx
import pytest

from tests.factories import Factory
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
