"""No mass assignment: fields a client must not set are refused, and nothing is written.

The write operations are read from the OpenAPI schema, so a new one without a valid call
here fails the first test instead of escaping the others.
"""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.factories import Factory
from tests.platform.apps import assert_problem
from tests.security.support import (
    json_body_schema,
    object_schema,
    openapi,
    snapshot,
    valid_calls,
    with_field,
    write_operations,
)
from tests.setup.support import SETUP_ADMIN, admin_body, issue_code

SENTINEL_ID = "00000000-0000-4000-8000-00000000beef"
SENTINEL_TIME = "1999-12-31T23:59:59+00:00"
# What a client must never set, with values no operation would produce by itself.
FORBIDDEN = {
    "id": SENTINEL_ID,
    "role": "ADMIN",
    "status": "COMPLETED",
    "interviewer_id": SENTINEL_ID,
    "interviewee_id": SENTINEL_ID,
    "deleted_at": SENTINEL_TIME,
    "is_active": False,
    "created_at": SENTINEL_TIME,
    "password_hash": "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
    "version": 987654,
}
# Form-encoded: the OAuth2 password form of the /docs Authorize button.
NOT_JSON = {"POST /api/auth/token"}
# Succeeds only while no admin exists, and valid_calls needs an admin to make its resources:
# checked on its own below.
FIRST_RUN = "POST /api/setup/admin"


async def test_every_write_operation_has_a_valid_call(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    calls = await valid_calls(factory)
    assert set(calls) == set(write_operations(await openapi(client))) - NOT_JSON - {FIRST_RUN}


async def test_fields_a_client_must_not_set_are_refused_by_the_first_run(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    code = await issue_code(app)
    body = admin_body(code)
    for name, value in FORBIDDEN.items():
        before = await snapshot(app)
        response = await client.post(SETUP_ADMIN, json=with_field(body, name, value))
        problem = assert_problem(response, 422, "VALIDATION_ERROR")
        assert {"field": name, "type": "extra_forbidden"}.items() <= problem["errors"][0].items()
        assert await snapshot(app) == before, name
    # The same call without the field makes the admin: the field alone was the reason.
    response = await client.post(SETUP_ADMIN, json=body)
    assert response.status_code == 201, response.text


async def test_fields_a_client_must_not_set_are_refused_by_every_json_write(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    schema = await openapi(client)
    operations = write_operations(schema)
    calls = await valid_calls(factory)
    checked = 0
    for label, call in calls.items():
        body_schema = json_body_schema(schema, operations[label])
        if body_schema is None:
            continue
        fields, prefix = object_schema(schema, body_schema)
        # A field the body documents may be set (an admin's `role`, a registrant's `role`).
        allowed = set(fields.get("properties", {}))
        for name, value in FORBIDDEN.items():
            if name in allowed:
                continue
            before = await snapshot(app)
            response = await call.send(client, body=with_field(call.body, name, value))
            problem = assert_problem(response, 422, "VALIDATION_ERROR")
            expected = {"field": prefix + name, "type": "extra_forbidden"}
            assert expected.items() <= problem["errors"][0].items(), (label, problem)
            assert await snapshot(app) == before, (label, name)
            checked += 1
        # The same call without the field is accepted: the field alone was the reason.
        response = await call.send(client)
        assert response.status_code < 300, (label, response.text)
    assert checked >= 90


async def test_a_body_sent_to_an_operation_that_takes_none_assigns_nothing(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    schema = await openapi(client)
    operations = write_operations(schema)
    calls = await valid_calls(factory)
    bodyless = [c for label, c in calls.items() if "requestBody" not in operations[label]]
    assert len(bodyless) >= 10
    for call in bodyless:
        users_before = (await snapshot(app))["users"]
        response = await call.send(client, body=FORBIDDEN)
        assert response.status_code < 300, (call.label, response.text)
        after = await snapshot(app)
        # Nobody's role or activity moved, and no sentinel value reached any table.
        assert after["users"] == users_before, call.label
        written = repr(after)
        for value in (SENTINEL_ID, "1999-12-31", "987654", "c2FsdHNhbHQ"):
            assert value not in written, (call.label, value)
        if response.content and response.headers["content-type"] == "application/json":
            assert SENTINEL_ID not in response.text


async def test_an_admin_cannot_be_registered_by_setting_the_role(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    before = await snapshot(app)
    response = await client.post(
        "/api/auth/register",
        json={
            "name": "Would-be admin",
            "email": "sneaky@example.com",
            "password": "correct horse battery",
            "role": "ADMIN",
        },
    )
    assert_problem(response, 403, "ROLE_NOT_ALLOWED")
    assert await snapshot(app) == before


async def test_a_user_cannot_change_their_own_role_or_activity(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.interviewee()
    for field, value in (("role", "ADMIN"), ("is_active", False)):
        before = await snapshot(app)
        response = await client.patch("/api/users/me", json={field: value}, headers=user.headers)
        assert_problem(response, 422, "VALIDATION_ERROR")
        assert await snapshot(app) == before
    me = (await client.get("/api/auth/me", headers=user.headers)).json()
    assert (me["role"], me["is_active"]) == ("INTERVIEWEE", True)
