"""Security headers on every API response, and CORS for the configured origins only."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from peerview.config import Settings
from tests.factories import Factory

ALLOWED_ORIGIN = "https://app.peerview.test"  # the test settings' CORS_ORIGINS
FOREIGN_ORIGIN = "https://evil.example"

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "content-security-policy": "frame-ancestors 'none'",
}


def assert_security_headers(response: httpx.Response) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, (name, response.status_code)


async def test_successful_api_responses_carry_security_headers(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    assert_security_headers(await client.get("/api/health"))
    assert_security_headers(await client.get("/api/auth/me", headers=user.headers))
    login = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    assert login.status_code == 200
    assert_security_headers(login)


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/api/auth/me", 401),
        ("GET", "/api/nothing", 404),
        ("DELETE", "/api/health", 405),
        ("POST", "/api/auth/login", 422),
    ],
)
async def test_error_responses_carry_security_headers(
    client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    response = await client.request(method, path)
    assert response.status_code == status
    assert_security_headers(response)


async def test_413_carries_security_headers(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/auth/login", content=b"x" * (1024 * 1024 + 1))
    assert response.status_code == 413
    assert_security_headers(response)


async def test_500_carries_security_headers(app: FastAPI, client: httpx.AsyncClient) -> None:
    async def explode() -> None:
        raise RuntimeError("boom")

    app.add_api_route("/api/test-explode", explode)
    response = await client.get("/api/test-explode")
    assert response.status_code == 500
    assert_security_headers(response)


async def test_cors_preflight_from_the_allowed_origin_is_allowed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.options(
        "/api/auth/login",
        headers={
            "Origin": ALLOWED_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type, Authorization",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed_headers = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed_headers


async def test_cors_simple_request_from_the_allowed_origin_is_allowed(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/api/health", headers={"Origin": ALLOWED_ORIGIN})
    assert response.headers["access-control-allow-origin"] == ALLOWED_ORIGIN
    assert "origin" in response.headers.get("vary", "").lower()


async def test_cors_foreign_origin_gets_no_allow_origin(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/api/auth/login",
        headers={"Origin": FOREIGN_ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    simple = await client.get("/api/health", headers={"Origin": FOREIGN_ORIGIN})
    for response in (preflight, simple):
        assert "access-control-allow-origin" not in response.headers
    assert simple.status_code == 200


async def test_cors_never_answers_with_a_wildcard(client: httpx.AsyncClient) -> None:
    for origin in (ALLOWED_ORIGIN, FOREIGN_ORIGIN, "null"):
        response = await client.get("/api/health", headers={"Origin": origin})
        assert response.headers.get("access-control-allow-origin") != "*"


def test_a_wildcard_in_cors_origins_is_ignored() -> None:
    settings = Settings(cors_origins="*, https://a.example", _env_file=None)  # type: ignore[call-arg]
    assert settings.cors_origin_list == ["https://a.example"]


async def test_refused_cors_preflight_is_a_problem_document(client: httpx.AsyncClient) -> None:
    response = await client.options(
        "/api/auth/me",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "GET",
        },
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "CORS_PREFLIGHT_REFUSED"
    assert "access-control-allow-origin" not in response.headers
