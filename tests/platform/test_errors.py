"""Every failure is an RFC 9457 problem with a stable code (docs/api.md §1)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Factory
from tests.platform.apps import assert_problem

ONE_MIB = 1024 * 1024


async def test_unknown_route_is_404_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/no-such-thing")
    body = assert_problem(response, 404, "NOT_FOUND")
    assert body["type"].startswith("https://")


async def test_wrong_method_is_405_with_allow(client: httpx.AsyncClient) -> None:
    response = await client.delete("/api/health")
    assert_problem(response, 405, "METHOD_NOT_ALLOWED")
    assert "GET" in response.headers["allow"]


async def test_malformed_json_is_422_validation_error(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login",
        content=b'{"email": "a@example.com", "password": ',
        headers={"Content-Type": "application/json"},
    )
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert problem["errors"]


async def test_a_json_body_that_is_not_an_object_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", json=["a@example.com", "password"])
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_validation_errors_list_each_field(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/register", json={"email": "x", "password": "short"})
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    fields = {e["field"] for e in problem["errors"]}
    assert fields == {"name", "email", "password", "role"}
    for error in problem["errors"]:
        assert set(error) >= {"field", "location", "message", "type"}


async def test_body_over_1_mib_with_content_length_is_413(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login",
        content=b"x" * (ONE_MIB + 1),
        headers={"Content-Type": "application/json"},
    )
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")


async def test_streamed_body_over_1_mib_is_413(client: httpx.AsyncClient) -> None:
    # No Content-Length: the limit must hold while the body arrives, chunk by chunk.
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(17):
            yield b"x" * (64 * 1024)

    response = await client.post(
        "/api/auth/login", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")


async def test_body_of_exactly_1_mib_is_not_413(client: httpx.AsyncClient) -> None:
    padding = "x" * (ONE_MIB - 64)
    payload = f'{{"email": "a@example.com", "password": "pw", "pad": "{padding}"}}'.encode()
    payload += b" " * (ONE_MIB - len(payload))
    assert len(payload) == ONE_MIB
    response = await client.post(
        "/api/auth/login", content=payload, headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_unexpected_exception_is_500_without_internals(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def explode() -> None:
        raise RuntimeError("secret internals: /srv/peerview/db.py line 42")

    app.add_api_route("/api/test-explode", explode)
    response = await client.get("/api/test-explode")
    problem = assert_problem(response, 500, "INTERNAL_ERROR")
    assert "secret internals" not in response.text
    assert "Traceback" not in response.text
    assert "RuntimeError" not in response.text
    assert set(problem) <= {"type", "title", "status", "detail", "code", "request_id"}


@pytest.mark.parametrize(
    ("method", "path", "json", "status"),
    [
        ("GET", "/api/auth/me", None, 401),
        ("GET", "/api/users", "interviewee", 403),
        ("GET", "/api/users/00000000-0000-0000-0000-000000000000", "interviewee", 404),
        ("POST", "/api/auth/register", {"name": "x"}, 422),
        ("POST", "/api/auth/login", {"email": "nobody@example.com", "password": "x"}, 401),
        ("GET", "/api/users?limit=101", "admin", 422),
        ("PUT", "/api/users/me", None, 405),
        ("GET", "/nothing-here", None, 404),
    ],
)
async def test_every_error_is_a_problem_document(
    client: httpx.AsyncClient,
    factory: Factory,
    method: str,
    path: str,
    json: object,
    status: int,
) -> None:
    headers = {}
    if json == "interviewee":
        headers = (await factory.interviewee()).headers
        json = None
    elif json == "admin":
        headers = (await factory.admin()).headers
        json = None
    response = await client.request(method, path, json=json, headers=headers)
    assert_problem(response, status)


async def test_unexpected_exception_is_logged_with_its_traceback(
    app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    async def explode() -> None:
        raise RuntimeError("logged, not shown")

    app.add_api_route("/api/test-explode", explode)
    with caplog.at_level(logging.ERROR, logger="peerview.errors"):
        await client.get("/api/test-explode")
    logged = [r for r in caplog.records if r.exc_info and "logged, not shown" in str(r.exc_info[1])]
    assert len(logged) == 1


@pytest.mark.parametrize(
    ("value", "status"),
    [
        ("2030-01-08T10:00:00", 422),
        ("2030-01-08 10:00", 422),
        ("next tuesday", 422),
        ("2030-01-08T10:00:00Z", 200),
        ("2030-01-08T12:00:00+02:00", 200),
    ],
)
async def test_input_datetimes_need_an_explicit_offset(
    client: httpx.AsyncClient, factory: Factory, value: str, status: int
) -> None:
    # Any route with a datetime input will do; this one's `from` is a query parameter.
    interviewer = await factory.interviewer()
    response = await client.get(
        "/api/interview-requests/open", params={"from": value}, headers=interviewer.headers
    )
    assert response.status_code == status, response.text
    if status == 422:
        problem = assert_problem(response, 422, "VALIDATION_ERROR")
        assert [e["field"] for e in problem["errors"]] == ["from"]
