"""The last active admin (docs/api.md §3.2): never demoted or deactivated, whoever asks.

The races (two admins removing each other at once) are in tests/reliability/test_races.py.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from peerview.events import AccessChanged
from peerview.models import User
from peerview.models.base import table_of
from peerview.models.enums import Role
from peerview.users.errors import LastAdmin
from tests.factories import Factory, TestUser
from tests.lifecycle.support import record_events
from tests.platform.apps import assert_problem
from tests.support.sql import execute

USERS = "/api/users"
REMOVALS = (
    {"role": "INTERVIEWER"},
    {"role": "INTERVIEWEE"},
    {"is_active": False},
    {"role": "INTERVIEWER", "is_active": False},
)
users = table_of(User)


async def stored(app: FastAPI, user_id: str) -> dict[str, Any]:
    """The user's row as the database holds it: what a refusal must leave alone."""
    query = select(users.c.role, users.c.is_active, users.c.updated_at).where(users.c.id == user_id)
    async with app.services.database.transaction(write=False) as db:
        return (await execute(db, query)).mappings().one()


async def active_admins(app: FastAPI) -> set[str]:
    query = select(users.c.id).where(users.c.role == Role.ADMIN.value, users.c.is_active)
    async with app.services.database.transaction(write=False) as db:
        return set((await execute(db, query)).scalars().all())


async def change(
    client: httpx.AsyncClient, asker: TestUser, target: TestUser, body: dict[str, Any]
) -> httpx.Response:
    return await client.patch(f"{USERS}/{target.id}", headers=asker.headers, json=body)


@pytest.mark.parametrize("body", REMOVALS, ids=lambda b: ",".join(f"{k}={v}" for k, v in b.items()))
async def test_the_last_active_admin_removing_themself_is_409_and_changes_nothing(
    factory: Factory, body: dict[str, Any]
) -> None:
    admin = await factory.admin()
    await factory.interviewer()  # other users are no admins to fall back on
    recorder = record_events(factory.app)
    before = await stored(factory.app, admin.id)
    factory.clock.advance(minutes=5)  # a write would move updated_at
    response = await change(factory.client, admin, admin, body)
    assert_problem(response, 409, "LAST_ADMIN")
    assert await stored(factory.app, admin.id) == before
    assert not [e for e in recorder.events if isinstance(e, AccessChanged)]
    me = await factory.client.get("/api/auth/me", headers=admin.headers)
    assert me.status_code == 200, me.text  # the token still works
    assert (me.json()["role"], me.json()["is_active"]) == ("ADMIN", True)


async def test_last_admin_is_a_problem_document(factory: Factory) -> None:
    admin = await factory.admin()
    response = await change(factory.client, admin, admin, {"role": "INTERVIEWEE"})
    problem = assert_problem(response, 409, "LAST_ADMIN")
    assert problem["type"] == "https://peerview.dev/problems/last-admin"
    assert problem["title"] == LastAdmin.title
    assert "last active admin" in problem["detail"]
    assert problem["request_id"] == response.headers["X-Request-ID"]
    assert "errors" not in problem


@pytest.mark.parametrize("body", REMOVALS, ids=lambda b: ",".join(f"{k}={v}" for k, v in b.items()))
async def test_an_admin_may_step_down_while_another_active_admin_remains(
    factory: Factory, body: dict[str, Any]
) -> None:
    leaving, staying = await factory.admin(), await factory.admin()
    response = await change(factory.client, leaving, leaving, body)
    assert response.status_code == 200, response.text
    assert await active_admins(factory.app) == {staying.id}
    # Now the other one is the last.
    assert_problem(await change(factory.client, staying, staying, body), 409, "LAST_ADMIN")
    assert await active_admins(factory.app) == {staying.id}


@pytest.mark.parametrize("body", REMOVALS, ids=lambda b: ",".join(f"{k}={v}" for k, v in b.items()))
async def test_an_admin_may_remove_another_admin_and_is_then_the_last(
    factory: Factory, body: dict[str, Any]
) -> None:
    admin, other = await factory.admin(), await factory.admin()
    response = await change(factory.client, admin, other, body)
    assert response.status_code == 200, response.text
    assert await active_admins(factory.app) == {admin.id}
    assert_problem(await change(factory.client, admin, admin, body), 409, "LAST_ADMIN")


async def test_a_deactivated_admin_does_not_count_as_active(factory: Factory) -> None:
    admin, dormant = await factory.admin(), await factory.admin()
    deactivated = await change(factory.client, admin, dormant, {"is_active": False})
    assert deactivated.status_code == 200, deactivated.text
    assert deactivated.json()["role"] == "ADMIN"  # still an admin by role, but inactive
    for body in REMOVALS:
        assert_problem(await change(factory.client, admin, admin, body), 409, "LAST_ADMIN")
    # Reactivated, it counts again: the first admin may now step down.
    reactivated = await change(factory.client, admin, dormant, {"is_active": True})
    assert reactivated.status_code == 200, reactivated.text
    stepped = await change(factory.client, admin, admin, {"role": "INTERVIEWER"})
    assert stepped.status_code == 200, stepped.text
    assert await active_admins(factory.app) == {dormant.id}


async def test_changing_an_inactive_admin_is_allowed_with_one_active_admin(
    factory: Factory,
) -> None:
    admin, dormant = await factory.admin(), await factory.admin()
    assert (await change(factory.client, admin, dormant, {"is_active": False})).status_code == 200
    for body in REMOVALS:
        response = await change(factory.client, admin, dormant, body)
        assert response.status_code == 200, response.text
    assert await active_admins(factory.app) == {admin.id}


@pytest.mark.parametrize(
    "body", [{}, {"role": "ADMIN"}, {"is_active": True}, {"role": "ADMIN", "is_active": True}]
)
async def test_changes_that_keep_the_last_admin_an_admin_are_allowed(
    factory: Factory, body: dict[str, Any]
) -> None:
    admin = await factory.admin()
    response = await change(factory.client, admin, admin, body)
    assert response.status_code == 200, response.text
    assert (response.json()["role"], response.json()["is_active"]) == ("ADMIN", True)


async def test_the_last_admin_may_still_change_other_users(factory: Factory) -> None:
    admin = await factory.admin()
    user = await factory.interviewee()
    for body in ({"role": "INTERVIEWER"}, {"is_active": False}, {"is_active": True}):
        response = await change(factory.client, admin, user, body)
        assert response.status_code == 200, response.text
    promoted = await change(factory.client, admin, user, {"role": "ADMIN"})
    assert promoted.status_code == 200, promoted.text
    assert await active_admins(factory.app) == {admin.id, user.id}


async def test_the_last_admin_cannot_leave_by_another_route(factory: Factory) -> None:
    # Role and activity change only through PATCH /api/users/{id}: the profile route refuses
    # them and no route deletes an account.
    admin = await factory.admin()
    for field, value in (("role", "INTERVIEWER"), ("is_active", False)):
        response = await factory.client.patch(
            f"{USERS}/me", headers=admin.headers, json={field: value}
        )
        problem = assert_problem(response, 422, "VALIDATION_ERROR")
        assert [e["field"] for e in problem["errors"]] == [field]
    deleted = await factory.client.delete(f"{USERS}/{admin.id}", headers=admin.headers)
    assert_problem(deleted, 405, "METHOD_NOT_ALLOWED")
    assert await active_admins(factory.app) == {admin.id}


async def test_an_unknown_user_is_404_for_the_last_admin_too(factory: Factory) -> None:
    admin = await factory.admin()
    response = await factory.client.patch(
        f"{USERS}/no-such-user", headers=admin.headers, json={"is_active": False}
    )
    assert_problem(response, 404, "USER_NOT_FOUND")


def test_openapi_lists_last_admin_for_the_admin_change(app: FastAPI) -> None:
    responses = app.openapi()["paths"]["/api/users/{user_id}"]["patch"]["responses"]
    assert "`LAST_ADMIN`" in responses["409"]["description"]
    assert "application/problem+json" in responses["409"]["content"]
