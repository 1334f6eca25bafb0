"""Input limits: bodies over 1 MiB are 413, `limit` over 100 and strings out of bounds are 422.

Bounds are read from the OpenAPI schema (so the documented bound is the enforced one) and
checked on both sides: one past the bound is refused naming the field, the bound itself is
not refused for that field. Every refusal leaves the database as it was.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.factories import Factory
from tests.platform.apps import assert_problem
from tests.security.support import (
    json_body_schema,
    object_schema,
    openapi,
    resolve,
    snapshot,
    valid_calls,
    with_field,
    write_operations,
)

ONE_MIB = 1024 * 1024


def fields_named(problem: dict[str, Any], name: str) -> list[dict[str, str]]:
    """The errors about the field `name` (a dotted path) or about something inside it."""
    return [
        e
        for e in problem.get("errors", [])
        if e["field"] == name or e["field"].startswith(f"{name}.")
    ]


async def test_every_write_operation_refuses_a_body_over_1_mib(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    calls = await valid_calls(factory)
    oversized = b'{"note": "' + b"x" * ONE_MIB + b'"}'
    for call in calls.values():
        before = await snapshot(app)
        response = await client.request(
            call.method.upper(),
            call.url,
            content=oversized,
            headers={**call.headers, "Content-Type": "application/json"},
        )
        assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
        assert await snapshot(app) == before, call.label


async def test_a_streamed_body_over_1_mib_is_413_without_a_content_length(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    calls = await valid_calls(factory)
    call = calls["POST /api/interview-requests"]

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"note": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    before = await snapshot(app)
    response = await client.post(
        call.url,
        content=chunks(),
        headers={**call.headers, "Content-Type": "application/json"},
    )
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, "PAYLOAD_TOO_LARGE")
    assert await snapshot(app) == before


async def test_a_body_of_exactly_1_mib_is_not_refused_for_its_size(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.interviewee()
    body = b'{"name": "' + b"x" * (ONE_MIB - 12) + b'"}'
    assert len(body) == ONE_MIB
    response = await client.patch(
        "/api/users/me", content=body, headers={**user.headers, "Content-Type": "application/json"}
    )
    # Refused for the name's length, not for the body's size.
    assert fields_named(assert_problem(response, 422, "VALIDATION_ERROR"), "name")


def _list_operations() -> list[str]:
    return [
        "/api/users",
        "/api/questions",
        "/api/interview-requests/open",
        "/api/interview-requests/mine",
        "/api/interview-sessions",
        "/api/feedback/session/{session_id}",
        "/api/feedback/received",
        "/api/notifications",
    ]


async def test_the_list_operations_are_every_operation_with_a_limit(
    client: httpx.AsyncClient,
) -> None:
    schema = await openapi(client)
    with_limit = {
        path
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if any(p["name"] == "limit" for p in operation.get("parameters", []))
    }
    assert with_limit == set(_list_operations())
    for path in with_limit:
        limit = next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == "limit")
        assert (limit["schema"]["minimum"], limit["schema"]["maximum"]) == (1, 100), path


@pytest.mark.parametrize("path", _list_operations())
async def test_a_limit_out_of_range_is_422_on_every_list(
    client: httpx.AsyncClient, factory: Factory, path: str
) -> None:
    admin = await factory.admin()
    # Input is checked before visibility: an unknown session still gets its 422 first.
    url = path.format(session_id="no-such-session")
    for limit in ("101", "1000000", "0", "-1", "ten"):
        response = await client.get(url, params={"limit": limit}, headers=admin.headers)
        assert fields_named(assert_problem(response, 422, "VALIDATION_ERROR"), "limit"), limit
    response = await client.get(url, params={"limit": "100"}, headers=admin.headers)
    assert response.status_code == (404 if "{session_id}" in path else 200), response.text


def _bounds(schema: dict[str, Any], body: dict[str, Any]) -> list[tuple[str, str, int, Any]]:
    """(field, side, bound, value past the bound) for every bounded string or list."""
    out: list[tuple[str, str, int, Any]] = []
    for name, raw in body.get("properties", {}).items():
        prop = resolve(schema, raw)
        if prop.get("type") == "string" and prop.get("format") not in ("email", "date-time"):
            if "maxLength" in prop:
                out.append((name, "max", prop["maxLength"], "x" * (prop["maxLength"] + 1)))
            if prop.get("minLength", 0) > 0:
                out.append((name, "min", prop["minLength"], "x" * (prop["minLength"] - 1)))
        if prop.get("type") == "array":
            item = resolve(schema, prop.get("items", {}))
            if "maxItems" in prop:
                too_many = [f"item{i}" for i in range(prop["maxItems"] + 1)]
                out.append((name, "max items", prop["maxItems"], too_many))
            if "maxLength" in item:
                out.append((name, "item max", item["maxLength"], ["x" * (item["maxLength"] + 1)]))
    return out


async def test_every_bounded_string_past_its_bound_is_422_naming_it(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    schema = await openapi(client)
    operations = write_operations(schema)
    calls = await valid_calls(factory)
    checked: set[tuple[str, str, str]] = set()
    for label, call in calls.items():
        body_schema = json_body_schema(schema, operations[label])
        if body_schema is None:
            continue
        fields, prefix = object_schema(schema, body_schema)
        for name, side, _, value in _bounds(schema, fields):
            before = await snapshot(app)
            response = await call.send(client, body=with_field(call.body, name, value))
            problem = assert_problem(response, 422)
            assert fields_named(problem, prefix + name), (label, name, side, problem)
            assert await snapshot(app) == before, (label, name, side)
            checked.add((label, name, side))
    # The contract's own bounds (docs/api.md) are among those enforced.
    for expected in [
        ("POST /api/interview-requests", "category", "max"),
        ("POST /api/interview-requests", "note", "max"),
        ("POST /api/feedback", "comments", "max"),
        ("POST /api/auth/register", "password", "max"),
        ("POST /api/auth/register", "password", "min"),
        ("POST /api/questions", "tags", "max items"),
        ("POST /api/questions/import", "title", "max"),
        ("POST /api/questions/import", "tags", "max items"),
    ]:
        assert expected in checked


AT_BOUND = [
    ("POST /api/interview-requests", "category", 64),
    ("POST /api/interview-requests", "note", 1000),
    ("POST /api/feedback", "comments", 5000),
    ("POST /api/auth/register", "password", 128),
    ("POST /api/auth/register", "password", 8),
    ("POST /api/questions", "title", 200),
    ("POST /api/questions", "prompt", 10_000),
    ("POST /api/questions/import", "prompt", 10_000),
    ("PATCH /api/users/me", "name", 100),
]


async def test_a_string_at_its_bound_is_accepted(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    calls = await valid_calls(factory)
    for n, (label, field, size) in enumerate(AT_BOUND):
        call = calls[label]
        body = with_field(call.body, field, "y" * size)
        if "email" in body:
            body["email"] = f"bound-{n}@example.com"
        response = await call.send(client, body=body)
        assert response.status_code < 300, (label, field, size, response.text)


@pytest.mark.parametrize(
    ("path", "name", "size"),
    [
        ("/api/questions", "category", 64),
        ("/api/questions", "tag", 40),
        ("/api/questions", "q", 200),
        ("/api/interview-requests/open", "category", 64),
        ("/api/questions", "cursor", 512),
    ],
)
async def test_a_query_string_past_its_bound_is_422_naming_it(
    client: httpx.AsyncClient, factory: Factory, path: str, name: str, size: int
) -> None:
    interviewer = await factory.interviewer()
    response = await client.get(path, params={name: "x" * (size + 1)}, headers=interviewer.headers)
    assert fields_named(assert_problem(response, 422, "VALIDATION_ERROR"), name)


@pytest.mark.parametrize(("field", "size"), [("username", 320), ("password", 128)])
async def test_the_oauth2_form_is_bounded_like_the_json_login(
    app: FastAPI, client: httpx.AsyncClient, field: str, size: int
) -> None:
    form = {"username": "someone@example.com", "password": "correct horse battery"}
    before = await snapshot(app)
    response = await client.post("/api/auth/token", data={**form, field: "x" * (size + 1)})
    assert fields_named(assert_problem(response, 422, "VALIDATION_ERROR"), field)
    assert await snapshot(app) == before
    # At the bound the form is read, and the unknown account refused like any.
    response = await client.post("/api/auth/token", data={**form, field: "x" * size})
    assert_problem(response, 401, "INVALID_CREDENTIALS")
    schema = await openapi(client)
    content = schema["paths"]["/api/auth/token"]["post"]["requestBody"]["content"]
    form_schema = resolve(schema, content["application/x-www-form-urlencoded"]["schema"])
    assert form_schema["properties"][field]["maxLength"] == size
