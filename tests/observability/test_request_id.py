"""X-Request-ID: taken from the client when well-formed, generated otherwise, echoed everywhere."""

from __future__ import annotations

import re

import httpx
import pytest
from fastapi import FastAPI

from tests.platform.apps import assert_problem

GENERATED = re.compile(r"[0-9a-f]{32}")


async def test_a_valid_request_id_is_echoed(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health", headers={"X-Request-ID": "edge-1.A_b"})
    assert response.headers["x-request-id"] == "edge-1.A_b"


async def test_a_request_id_is_generated_when_absent(client: httpx.AsyncClient) -> None:
    first = (await client.get("/api/health")).headers["x-request-id"]
    second = (await client.get("/api/health")).headers["x-request-id"]
    assert GENERATED.fullmatch(first)
    assert GENERATED.fullmatch(second)
    assert first != second


@pytest.mark.parametrize(
    "sent",
    ["x" * 129, "has space", "semi;colon", "new\\nline", "", "ünïcode"],
)
async def test_a_malformed_request_id_is_replaced(client: httpx.AsyncClient, sent: str) -> None:
    headers = {"X-Request-ID": sent.encode("utf-8")}
    response = await client.get("/api/health", headers=headers)
    assert GENERATED.fullmatch(response.headers["x-request-id"])


async def test_a_request_id_of_128_characters_is_kept(client: httpx.AsyncClient) -> None:
    sent = "a" * 128
    response = await client.get("/api/health", headers={"X-Request-ID": sent})
    assert response.headers["x-request-id"] == sent


@pytest.mark.parametrize(
    ("method", "path", "json", "status"),
    [
        ("GET", "/api/auth/me", None, 401),
        ("GET", "/nothing-here", None, 404),
        ("PUT", "/api/auth/me", None, 405),
        ("POST", "/api/auth/register", {"name": "x"}, 422),
        ("POST", "/api/auth/login", {"email": "nobody@example.com", "password": "x" * 8}, 401),
    ],
)
async def test_error_bodies_carry_the_request_id(
    client: httpx.AsyncClient, method: str, path: str, json: object, status: int
) -> None:
    response = await client.request(method, path, json=json, headers={"X-Request-ID": "trace-42"})
    body = assert_problem(response, status)
    assert body["request_id"] == "trace-42"
    assert response.headers["x-request-id"] == "trace-42"


async def test_a_generated_request_id_is_the_one_in_the_error_body(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/auth/me")
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_the_body_limit_refusal_carries_the_request_id(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/login",
        content=b"x" * (1024 * 1024 + 1),
        headers={"X-Request-ID": "big-body", "Content-Type": "application/json"},
    )
    body = assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    assert body["request_id"] == "big-body"


async def test_an_unexpected_error_carries_the_request_id(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    async def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/api/test-explode", explode)
    response = await client.get("/api/test-explode", headers={"X-Request-ID": "crash-1"})
    body = assert_problem(response, 500, "INTERNAL_ERROR")
    assert body["request_id"] == "crash-1"
    assert response.headers["x-request-id"] == "crash-1"
    assert "boom" not in response.text
