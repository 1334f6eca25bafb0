"""The order of checks (docs/api.md §1.5) holds for a body that cannot even be read.

Every authenticated operation of the OpenAPI schema that takes a body is sent a body that is
not well-formed JSON, and one that is not UTF-8: without a token, or with an invalid one, the
answer is 401 with `WWW-Authenticate: Bearer`; with the token of a role the route refuses,
403; with the token of a role it serves, the body's 422 `VALIDATION_ERROR` as before. The
operations are read from the schema, so a route added later is covered by the same rule.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts

from peerview.auth.throttle import WriteRateLimit
from peerview.clock import FakeClock
from peerview.context import authentication_of
from peerview.main import create_app
from peerview.models.enums import Role
from tests.factories import Factory, TestUser
from tests.platform.apps import assert_problem
from tests.security.support import snapshot
from tests.support.environment import test_settings

NOT_JSON = b'{"name": "unterminated'
NOT_UTF8 = b'{"name": "\xff\xfe"}'
UNREADABLE = {"not well-formed JSON": NOT_JSON, "not UTF-8": NOT_UTF8}


def _operations() -> list[tuple[str, str, frozenset[Role]]]:
    """(method, path, roles: empty for any user) of every authenticated operation with a body."""
    app = create_app(test_settings("sqlite+aiosqlite:///:memory:"), FakeClock())
    try:
        paths: dict[str, dict[str, Any]] = app.openapi()["paths"]
        roles: dict[tuple[str, str], frozenset[Role]] = {}
        for context in iter_route_contexts(app.routes):
            route = context.original_route
            auth = authentication_of(route) if isinstance(route, APIRoute) else None
            for method in context.methods or ():
                if auth is not None and context.path_format:
                    roles[(method.lower(), context.path_format)] = auth.roles
    finally:
        app.services.passwords.close()
    return [
        (method.upper(), path, roles[(method, path)])
        for path, operations in paths.items()
        for method, operation in operations.items()
        if operation.get("security") and "requestBody" in operation
    ]


OPERATIONS = _operations()
IDS = [f"{method} {path}" for method, path, _ in OPERATIONS]


def test_the_operations_under_test_are_found() -> None:
    # The parametrized tests below must not pass by having nothing to run on.
    labels = set(IDS)
    assert {"POST /api/interview-requests", "PATCH /api/users/me", "POST /api/feedback"} <= labels
    assert len(OPERATIONS) >= 8


def url_of(path: str) -> str:
    """The path with an id in every parameter: none is looked up before the body is judged."""
    return path.format_map({name: str(uuid.uuid4()) for name in _parameters(path)})


def _parameters(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]


async def send(
    client: httpx.AsyncClient, method: str, path: str, body: bytes, headers: dict[str, str]
) -> httpx.Response:
    return await client.request(
        method,
        url_of(path),
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )


def assert_unauthenticated(response: httpx.Response, code: str) -> None:
    assert_problem(response, 401, code)
    assert response.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
@pytest.mark.parametrize(("method", "path", "roles"), OPERATIONS, ids=IDS)
async def test_an_unreadable_body_without_a_token_is_401(
    client: httpx.AsyncClient, method: str, path: str, roles: frozenset[Role], body: bytes
) -> None:
    response = await send(client, method, path, body, {})
    assert_unauthenticated(response, "NOT_AUTHENTICATED")


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
@pytest.mark.parametrize(("method", "path", "roles"), OPERATIONS, ids=IDS)
async def test_an_unreadable_body_with_an_invalid_token_is_401(
    client: httpx.AsyncClient, method: str, path: str, roles: frozenset[Role], body: bytes
) -> None:
    headers = {"Authorization": "Bearer not.a.token"}
    response = await send(client, method, path, body, headers)
    assert_unauthenticated(response, "INVALID_TOKEN")


async def users_of_every_role(factory: Factory) -> dict[Role, TestUser]:
    return {
        Role.ADMIN: await factory.admin(),
        Role.INTERVIEWER: await factory.interviewer(),
        Role.INTERVIEWEE: await factory.interviewee(),
    }


@pytest.mark.parametrize("body", UNREADABLE.values(), ids=UNREADABLE.keys())
@pytest.mark.parametrize(("method", "path", "roles"), OPERATIONS, ids=IDS)
async def test_an_unreadable_body_with_a_valid_token_is_403_or_the_bodys_422(
    app: FastAPI,
    factory: Factory,
    method: str,
    path: str,
    roles: frozenset[Role],
    body: bytes,
) -> None:
    users = await users_of_every_role(factory)
    before = await snapshot(app)
    for role, user in users.items():
        response = await send(factory.client, method, path, body, user.headers)
        if roles and role not in roles:
            assert_problem(response, 403, "FORBIDDEN")
            continue
        problem = assert_problem(response, 422, "VALIDATION_ERROR")
        assert [e["type"] for e in problem["errors"]] == ["json_invalid"], (role, problem)
    assert await snapshot(app) == before


async def test_an_unreadable_body_of_a_writer_over_the_write_limit_is_429(
    app: FastAPI, factory: Factory
) -> None:
    # §1.5: the write limit comes before the input, for a body that cannot be read too.
    user = await factory.interviewee()
    limit = WriteRateLimit(clock=FakeClock(), per_minute=1, admin_per_minute=1)
    app.services = dataclasses.replace(app.services, write_limit=limit)
    first = await send(factory.client, "PATCH", "/api/users/me", NOT_JSON, user.headers)
    assert_problem(first, 422, "VALIDATION_ERROR")
    second = await send(factory.client, "PATCH", "/api/users/me", NOT_JSON, user.headers)
    assert_problem(second, 429, "TOO_MANY_REQUESTS")


async def test_a_readable_body_of_the_wrong_shape_keeps_its_order(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # Well-formed JSON that is not an object was already judged after the token: unchanged.
    anonymous = await send(client, "POST", "/api/interview-requests", b"[1, 2]", {})
    assert_unauthenticated(anonymous, "NOT_AUTHENTICATED")
    user = await factory.interviewee()
    judged = await send(client, "POST", "/api/interview-requests", b"[1, 2]", user.headers)
    assert_problem(judged, 422, "VALIDATION_ERROR")


async def test_a_body_over_the_limit_without_a_token_is_still_413(
    client: httpx.AsyncClient,
) -> None:
    oversized = b'{"note": "' + b"x" * (1024 * 1024) + b'"}'
    declared = await send(client, "POST", "/api/interview-requests", oversized, {})
    assert_problem(declared, 413, "PAYLOAD_TOO_LARGE")

    async def chunks() -> AsyncIterator[bytes]:
        yield oversized[: len(oversized) // 2]
        yield oversized[len(oversized) // 2 :]

    streamed = await client.post(
        "/api/interview-requests", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in streamed.request.headers
    assert_problem(streamed, 413, "PAYLOAD_TOO_LARGE")


async def test_an_unreadable_body_on_an_anonymous_route_is_422(client: httpx.AsyncClient) -> None:
    # Login and registration take no token: their body is all there is to judge.
    for path in ("/api/auth/login", "/api/auth/register"):
        assert_problem(await send(client, "POST", path, NOT_JSON, {}), 422, "VALIDATION_ERROR")
