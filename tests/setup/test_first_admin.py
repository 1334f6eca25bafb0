"""`GET /api/setup` and `POST /api/setup/admin`: the first admin, made once (docs/api.md §3.5)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from fastapi import FastAPI

from peerview.admin import create_admin
from peerview.clock import FakeClock
from peerview.config import Settings
from tests.factories import Factory
from tests.platform.apps import assert_problem, bearer, extra_app
from tests.setup.support import (
    PASSWORD,
    SETUP,
    SETUP_ADMIN,
    admin_body,
    count_admins,
    count_codes,
    issue_code,
)
from tests.support.environment import in_thread


async def test_setup_is_open_until_an_admin_exists(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    response = await client.get(SETUP)
    assert response.status_code == 200
    assert response.json() == {"setup_open": True}
    await factory.interviewer()
    assert (await client.get(SETUP)).json() == {"setup_open": True}
    await factory.admin()
    assert (await client.get(SETUP)).json() == {"setup_open": False}


async def test_the_right_code_makes_the_first_admin_with_a_working_token(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    code = await issue_code(app)
    response = await client.post(SETUP_ADMIN, json=admin_body(code, email=" Ada@Example.com "))
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["role"] == "ADMIN"
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["name"] == "Ada Admin"
    me = await client.get("/api/auth/me", headers=bearer(body["access_token"]))
    assert me.status_code == 200
    assert me.json() == body["user"]
    login = {"email": "ada@example.com", "password": PASSWORD}
    assert (await client.post("/api/auth/login", json=login)).status_code == 200
    assert (await client.get(SETUP)).json() == {"setup_open": False}


async def test_a_code_works_once_and_setup_is_closed_after_it(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    code = await issue_code(app)
    other = await issue_code(app, instance="other-host:5000")
    assert (await client.post(SETUP_ADMIN, json=admin_body(code))).status_code == 201
    assert await count_codes(app) == 0  # the used one and every other one
    again = await client.post(SETUP_ADMIN, json=admin_body(code, email="eve@example.com"))
    assert_problem(again, 403, "SETUP_CLOSED")
    assert_problem(
        await client.post(SETUP_ADMIN, json=admin_body(other, email="eve@example.com")),
        403,
        "SETUP_CLOSED",
    )
    assert await count_admins(app) == 1


async def test_a_wrong_code_is_403_invalid_setup_code(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    code = await issue_code(app)
    wrong = "AAAA-AAAA-AAAA" if code != "AAAA-AAAA-AAAA" else "BBBB-BBBB-BBBB"
    assert_problem(
        await client.post(SETUP_ADMIN, json=admin_body(wrong)), 403, "INVALID_SETUP_CODE"
    )
    assert await count_admins(app) == 0
    assert (await client.get(SETUP)).json() == {"setup_open": True}


async def test_no_code_is_right_before_the_server_made_one(client: httpx.AsyncClient) -> None:
    response = await client.post(SETUP_ADMIN, json=admin_body("ABCD-EFGH-JKMN"))
    assert_problem(response, 403, "INVALID_SETUP_CODE")


async def test_the_code_is_compared_without_case_spaces_or_dashes(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    code = await issue_code(app)
    typed = " ".join(code.replace("-", "").lower())
    assert (await client.post(SETUP_ADMIN, json=admin_body(typed))).status_code == 201


async def test_setup_is_closed_once_any_admin_exists(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    code = await issue_code(app)
    await factory.admin()
    response = await client.post(SETUP_ADMIN, json=admin_body(code))
    assert_problem(response, 403, "SETUP_CLOSED")
    assert await count_admins(app) == 1


async def test_setup_is_closed_after_create_admin_and_its_codes_forgotten(
    app: FastAPI, client: httpx.AsyncClient, settings: Settings
) -> None:
    code = await issue_code(app)
    in_thread(
        asyncio.run,
        create_admin(settings=settings, email="root@example.com", name="Root", password=PASSWORD),
    )
    assert await count_codes(app) == 0
    assert_problem(await client.post(SETUP_ADMIN, json=admin_body(code)), 403, "SETUP_CLOSED")
    assert (await client.get(SETUP)).json() == {"setup_open": False}
    assert await count_admins(app) == 1


async def test_a_closed_setup_is_answered_before_a_wrong_code(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    await factory.admin()
    response = await client.post(SETUP_ADMIN, json=admin_body("WRONG-CODE"))
    assert_problem(response, 403, "SETUP_CLOSED")


async def test_a_taken_email_is_409_and_the_code_still_works(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.interviewee()
    code = await issue_code(app)
    taken = await client.post(SETUP_ADMIN, json=admin_body(code, email=user.email.upper()))
    assert_problem(taken, 409, "EMAIL_TAKEN")
    assert await count_admins(app) == 0
    assert (await client.post(SETUP_ADMIN, json=admin_body(code))).status_code == 201


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "not an address"}, "email"),
        ({"email": "a" * 310 + "@example.com"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 129}, "password"),
        ({"name": "   "}, "name"),
        ({"name": "n" * 101}, "name"),
        ({"code": ""}, "code"),
        ({"code": "c" * 65}, "code"),
        ({"role": "ADMIN"}, "role"),
        ({"code": "ABCD\x00"}, "code"),
    ],
)
async def test_fields_follow_the_registration_rules(
    app: FastAPI, client: httpx.AsyncClient, change: dict[str, str], field: str
) -> None:
    body = {**admin_body(await issue_code(app)), **change}
    response = await client.post(SETUP_ADMIN, json=body)
    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert field in {error["field"] for error in body["errors"]}, body
    assert await count_admins(app) == 0


async def test_missing_fields_are_422_naming_each(client: httpx.AsyncClient) -> None:
    body = assert_problem(await client.post(SETUP_ADMIN, json={}), 422, "VALIDATION_ERROR")
    assert {error["field"] for error in body["errors"]} == {"code", "name", "email", "password"}


async def test_the_password_is_kept_as_typed(app: FastAPI, client: httpx.AsyncClient) -> None:
    code = await issue_code(app)
    password = f"  {PASSWORD}  "
    assert (
        await client.post(SETUP_ADMIN, json=admin_body(code, password=password))
    ).status_code == 201
    login = {"email": "ada@example.com", "password": password}
    assert (await client.post("/api/auth/login", json=login)).status_code == 200


async def test_a_restart_replaces_its_instance_code_and_leaves_the_others(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await issue_code(app, instance="a:5000")
    other = await issue_code(app, instance="b:5000")
    second = await issue_code(app, instance="a:5000")
    assert await count_codes(app) == 2
    assert_problem(
        await client.post(SETUP_ADMIN, json=admin_body(first)), 403, "INVALID_SETUP_CODE"
    )
    # Either instance's latest code works: here the other instance's.
    assert (await client.post(SETUP_ADMIN, json=admin_body(other))).status_code == 201
    assert_problem(await client.post(SETUP_ADMIN, json=admin_body(second)), 403, "SETUP_CLOSED")


async def test_a_server_starting_once_an_admin_exists_makes_no_code(
    app: FastAPI, factory: Factory
) -> None:
    await issue_code(app)
    await factory.admin()
    services = app.services  # type: ignore[attr-defined]
    async with services.database.transaction() as db:
        from peerview.setup import service as setup_service

        assert await setup_service.issue_code(db=db, now=services.clock.now(), instance="x") is None
    assert await count_codes(app) == 0


# -- races -----------------------------------------------------------------------------------


def cheap_hashing(settings: Settings) -> Settings:
    """Argon2 at test cost, so that the concurrent setups reach their writes together."""
    return settings.model_copy(update={"argon2_memory_kib": 1024, "argon2_time_cost": 1})


@pytest.mark.parametrize("codes", ["one code", "a code per instance"])
async def test_concurrent_setups_with_right_codes_make_exactly_one_admin(
    app: FastAPI, settings: Settings, clock: FakeClock, codes: str
) -> None:
    """Two server processes (two application instances on one database), each receiving
    setups at the same moment: one admin is made, every other setup is SETUP_CLOSED."""
    instances = [f"host-{n}:5000" for n in range(2)]
    made = [await issue_code(app, instance) for instance in instances]
    if codes == "one code":
        made = [made[1]] * 2
    async with (
        extra_app(cheap_hashing(settings), clock) as first,
        extra_app(cheap_hashing(settings), clock) as second,
    ):
        transports = [
            httpx.ASGITransport(app=instance, raise_app_exceptions=False)
            for instance in (first, second)
        ]
        clients = [
            httpx.AsyncClient(transport=transport, base_url="http://testserver")
            for transport in transports
        ]
        try:
            sends = [
                clients[n % 2].post(
                    SETUP_ADMIN,
                    json=admin_body(made[n % 2], email=f"admin{n}@example.com"),
                )
                for n in range(8)
            ]
            answers = await asyncio.gather(*sends)
        finally:
            for c in clients:
                await c.aclose()
    statuses = sorted(response.status_code for response in answers)
    assert statuses == [201] + [403] * 7, [r.text for r in answers]
    for response in answers:
        if response.status_code == 403:
            assert_problem(response, 403, "SETUP_CLOSED")
    assert await count_admins(app) == 1
    assert await count_codes(app) == 0
