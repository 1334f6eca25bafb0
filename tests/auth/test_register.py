"""Registration rules (docs/api.md §3): who may register, what a body may hold, how passwords
are kept."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select

from peerview.models import User
from tests.factories import Factory
from tests.platform.apps import assert_problem
from tests.support.sql import execute

REGISTER = "/api/auth/register"


def body(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "Grace",
        "email": "grace@example.com",
        "password": "s3cret-pass",
        "role": "INTERVIEWEE",
    }
    base.update(overrides)
    return base


async def count_users(app: FastAPI) -> int:
    async with app.services.database.acquire() as conn:
        return int((await execute(conn, select(func.count()).select_from(User))).scalar_one())


async def stored_hash(app: FastAPI, email: str) -> str:
    async with app.services.database.acquire() as conn:
        query = select(User.password_hash).where(User.email == email)
        return str((await execute(conn, query)).scalar_one())


@pytest.mark.parametrize("role", ["INTERVIEWER", "INTERVIEWEE"])
async def test_register_as_interviewer_or_interviewee_is_201(
    client: httpx.AsyncClient, role: str
) -> None:
    response = await client.post(REGISTER, json=body(role=role))
    assert response.status_code == 201, response.text
    payload = response.json()
    assert payload["token_type"] == "bearer"
    assert payload["user"]["role"] == role
    assert set(payload["user"]) == {
        "id",
        "name",
        "email",
        "role",
        "is_active",
        "email_notifications",
        "created_at",
    }


async def test_register_as_admin_is_403_role_not_allowed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    response = await client.post(REGISTER, json=body(role="ADMIN"))
    assert_problem(response, 403, "ROLE_NOT_ALLOWED")
    assert await count_users(app) == 0


@pytest.mark.parametrize(
    ("field", "value"), [("is_active", False), ("id", "00000000-0000-0000-0000-000000000000")]
)
async def test_register_with_an_unknown_field_is_422_naming_it_and_writes_nothing(
    client: httpx.AsyncClient, app: FastAPI, field: str, value: Any
) -> None:
    response = await client.post(REGISTER, json=body(**{field: value}))
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert field in {e["field"] for e in problem["errors"]}
    assert await count_users(app) == 0


async def test_register_with_an_email_taken_in_another_case_is_409(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    assert (await client.post(REGISTER, json=body(email="grace@example.com"))).status_code == 201
    response = await client.post(REGISTER, json=body(email="GRACE@Example.COM"))
    assert_problem(response, 409, "EMAIL_TAKEN")
    assert await count_users(app) == 1


async def test_email_is_stored_lower_case(client: httpx.AsyncClient) -> None:
    response = await client.post(REGISTER, json=body(email="Grace.Hopper@Example.com"))
    assert response.json()["user"]["email"] == "grace.hopper@example.com"


@pytest.mark.parametrize(
    ("length", "status"), [(7, 422), (8, 201), (128, 201), (129, 422)], ids=str
)
async def test_password_length_must_be_8_to_128(
    client: httpx.AsyncClient, length: int, status: int
) -> None:
    response = await client.post(REGISTER, json=body(password="p" * length))
    assert response.status_code == status, response.text
    if status == 422:
        problem = assert_problem(response, 422, "VALIDATION_ERROR")
        assert [e["field"] for e in problem["errors"]] == ["password"]


@pytest.mark.parametrize("email", ["not-an-email", "a@", "@example.com", "a b@example.com", ""])
async def test_invalid_email_is_422(client: httpx.AsyncClient, email: str) -> None:
    response = await client.post(REGISTER, json=body(email=email))
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert "email" in {e["field"] for e in problem["errors"]}


@pytest.mark.parametrize("missing", ["name", "email", "password", "role"])
async def test_register_without_a_required_field_is_422(
    client: httpx.AsyncClient, missing: str
) -> None:
    payload = body()
    del payload[missing]
    problem = assert_problem(await client.post(REGISTER, json=payload), 422, "VALIDATION_ERROR")
    assert missing in {e["field"] for e in problem["errors"]}


async def test_password_is_kept_exactly_as_typed(client: httpx.AsyncClient) -> None:
    # Surrounding spaces are part of the password, not formatting to tidy away.
    await client.post(REGISTER, json=body(password="  spaced out  "))
    exact = {"email": "grace@example.com", "password": "  spaced out  "}
    trimmed = {"email": "grace@example.com", "password": "spaced out"}
    assert (await client.post("/api/auth/login", json=exact)).status_code == 200
    assert (await client.post("/api/auth/login", json=trimmed)).status_code == 401


async def test_registered_password_is_stored_as_argon2id_at_owasp_cost(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await client.post(REGISTER, json=body())
    stored = await stored_hash(app, "grace@example.com")
    assert stored.startswith("$argon2id$")
    params = re.search(r"\$m=(\d+),t=(\d+),p=(\d+)\$", stored)
    assert params is not None, stored
    memory, time_cost, parallelism = map(int, params.groups())
    assert memory >= 19456
    assert time_cost >= 2
    assert parallelism >= 1
    assert "s3cret-pass" not in stored


async def test_registration_token_works_at_once(client: httpx.AsyncClient) -> None:
    token = (await client.post(REGISTER, json=body())).json()["access_token"]
    me = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200
    assert me.json()["email"] == "grace@example.com"


async def test_logged_in_users_may_register_another_account(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # Registration is for anyone: a token neither helps nor hinders.
    user = await factory.user()
    response = await client.post(REGISTER, json=body(), headers=user.headers)
    assert response.status_code == 201
