"""A user's own profile and everyone's public one (docs/api.md §3)."""

from __future__ import annotations

import uuid

import httpx

from peerview.clock import FakeClock
from peerview.models.enums import Role
from tests.factories import Factory
from tests.platform.apps import assert_problem

ME = "/api/users/me"


async def test_patch_me_changes_the_name(client: httpx.AsyncClient, factory: Factory) -> None:
    user = await factory.user()
    response = await client.patch(ME, headers=user.headers, json={"name": "Renamed"})
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert (await client.get("/api/auth/me", headers=user.headers)).json()["name"] == "Renamed"


async def test_patch_me_changes_email_notifications(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    response = await client.patch(ME, headers=user.headers, json={"email_notifications": False})
    assert response.json()["email_notifications"] is False
    me = await client.get("/api/auth/me", headers=user.headers)
    assert me.json()["email_notifications"] is False


async def test_patch_me_with_nothing_changes_nothing(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    before = (await client.get("/api/auth/me", headers=user.headers)).json()
    response = await client.patch(ME, headers=user.headers, json={})
    assert response.status_code == 200
    assert response.json() == before


async def test_password_change_without_current_password_is_422(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    response = await client.patch(ME, headers=user.headers, json={"password": "new password 1"})
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == ["current_password"]


async def test_password_change_with_a_wrong_current_password_is_422_invalid_current_password(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    response = await client.patch(
        ME,
        headers=user.headers,
        json={"password": "new password 1", "current_password": "not my password"},
    )
    assert_problem(response, 422, "INVALID_CURRENT_PASSWORD")
    # Nothing changed: the old password and the token still work.
    login = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    assert login.status_code == 200
    assert (await client.get("/api/auth/me", headers=user.headers)).status_code == 200


async def test_password_change_needs_8_to_128_characters(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    for password in ("short", "p" * 129):
        response = await client.patch(
            ME, headers=user.headers, json={"password": password, "current_password": user.password}
        )
        problem = assert_problem(response, 422, "VALIDATION_ERROR")
        assert "password" in {e["field"] for e in problem["errors"]}


async def test_password_change_lets_the_new_password_log_in(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    clock.advance(seconds=1)
    response = await client.patch(
        ME,
        headers=user.headers,
        json={"password": "new password 1", "current_password": user.password},
    )
    assert response.status_code == 200
    old = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    new = await client.post(
        "/api/auth/login", json={"email": user.email, "password": "new password 1"}
    )
    assert old.status_code == 401
    assert new.status_code == 200


async def test_patch_me_refuses_fields_one_may_not_set_oneself(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    for field, value in (("role", "ADMIN"), ("is_active", True), ("email", "x@example.com")):
        response = await client.patch(ME, headers=user.headers, json={field: value})
        problem = assert_problem(response, 422, "VALIDATION_ERROR")
        assert [e["field"] for e in problem["errors"]] == [field]
    assert (await client.get("/api/auth/me", headers=user.headers)).json()["role"] == "INTERVIEWEE"


async def test_public_profile_is_exactly_id_name_role(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    viewer = await factory.user()
    subject = await factory.user(Role.INTERVIEWER, name="Interviewer Ines")
    response = await client.get(f"/api/users/{subject.id}", headers=viewer.headers)
    assert response.status_code == 200
    assert response.json() == {"id": subject.id, "name": "Interviewer Ines", "role": "INTERVIEWER"}


async def test_own_public_profile_has_no_email_either(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    response = await client.get(f"/api/users/{user.id}", headers=user.headers)
    assert set(response.json()) == {"id", "name", "role"}


async def test_profile_of_an_unknown_user_is_404(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    for unknown in (str(uuid.uuid4()), "not-a-uuid"):
        response = await client.get(f"/api/users/{unknown}", headers=user.headers)
        assert_problem(response, 404, "USER_NOT_FOUND")


async def test_output_times_carry_a_utc_offset(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    me = (await client.get("/api/auth/me", headers=admin.headers)).json()
    listed = (await client.get("/api/users", headers=admin.headers)).json()["items"]
    for created_at in (me["created_at"], *(u["created_at"] for u in listed)):
        assert created_at.endswith(("Z", "+00:00")), created_at
