"""Administration of users (docs/api.md §3): listing, role changes, deactivation."""

from __future__ import annotations

import uuid

import httpx

from peerview.models.enums import Role
from tests.factories import Factory
from tests.platform.apps import assert_problem

USERS = "/api/users"


async def test_list_users_is_for_admins_only(client: httpx.AsyncClient, factory: Factory) -> None:
    for role in (Role.INTERVIEWER, Role.INTERVIEWEE):
        user = await factory.user(role)
        assert_problem(await client.get(USERS, headers=user.headers), 403, "FORBIDDEN")
    assert_problem(await client.get(USERS), 401)


async def test_list_users_shows_full_users_to_an_admin(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    user = await factory.user()
    response = await client.get(USERS, headers=admin.headers)
    assert response.status_code == 200
    page = response.json()
    assert page["next_cursor"] is None
    emails = {u["email"] for u in page["items"]}
    assert emails == {admin.email, user.email}


async def test_list_users_filters_by_role(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    interviewers = {(await factory.interviewer()).id for _ in range(2)}
    await factory.interviewee()
    response = await client.get(USERS, headers=admin.headers, params={"role": "INTERVIEWER"})
    assert {u["id"] for u in response.json()["items"]} == interviewers


async def test_list_users_with_an_unknown_role_is_422(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    response = await client.get(USERS, headers=admin.headers, params={"role": "SUPERUSER"})
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == ["role"]


async def test_list_users_pages_through_everyone_once_with_the_cursor(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    expected = {admin.id}
    for i in range(6):
        expected.add((await factory.user()).id)
        if i % 2:
            factory.clock.advance(seconds=1)  # some share a created_at, some do not
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = (await client.get(USERS, headers=admin.headers, params=params)).json()
        pages += 1
        assert len(page["items"]) <= 3
        seen.extend(u["id"] for u in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == expected


async def test_list_users_limit_over_100_is_422(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    assert (await client.get(USERS, headers=admin.headers, params={"limit": 100})).is_success
    response = await client.get(USERS, headers=admin.headers, params={"limit": 101})
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == ["limit"]
    for bad in (0, -1, "many"):
        response = await client.get(USERS, headers=admin.headers, params={"limit": bad})
        assert_problem(response, 422, "VALIDATION_ERROR")


async def test_list_users_with_a_bad_cursor_is_422(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    for cursor in ("garbage", "W10", "WyJ4Il0", "!!!"):
        response = await client.get(USERS, headers=admin.headers, params={"cursor": cursor})
        assert_problem(response, 422)


async def test_admin_changes_a_users_role(client: httpx.AsyncClient, factory: Factory) -> None:
    admin = await factory.admin()
    user = await factory.user(Role.INTERVIEWEE)
    response = await client.patch(
        f"{USERS}/{user.id}", headers=admin.headers, json={"role": "INTERVIEWER"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["role"] == "INTERVIEWER"
    assert body["email"] == user.email
    me = await client.get("/api/auth/me", headers=user.headers)
    assert me.json()["role"] == "INTERVIEWER"


async def test_admin_update_is_for_admins_only(client: httpx.AsyncClient, factory: Factory) -> None:
    user = await factory.user(Role.INTERVIEWER)
    target = await factory.user()
    for body in ({"role": "ADMIN"}, {"is_active": False}):
        response = await client.patch(f"{USERS}/{target.id}", headers=user.headers, json=body)
        assert_problem(response, 403, "FORBIDDEN")
        own = await client.patch(f"{USERS}/{user.id}", headers=user.headers, json=body)
        assert_problem(own, 403, "FORBIDDEN")
    assert (await client.get("/api/auth/me", headers=target.headers)).status_code == 200


async def test_deactivation_stops_tokens_at_once_and_login_says_invalid_credentials(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    user = await factory.user()
    response = await client.patch(
        f"{USERS}/{user.id}", headers=admin.headers, json={"is_active": False}
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert_problem(await client.get("/api/auth/me", headers=user.headers), 401, "INVALID_TOKEN")
    login = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    assert_problem(login, 401, "INVALID_CREDENTIALS")


async def test_admin_update_of_an_unknown_user_is_404(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    response = await client.patch(
        f"{USERS}/{uuid.uuid4()}", headers=admin.headers, json={"role": "INTERVIEWER"}
    )
    assert_problem(response, 404, "USER_NOT_FOUND")


async def test_admin_update_refuses_other_fields(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    user = await factory.user()
    for field, value in (("email", "x@example.com"), ("password_hash", "x"), ("name", "X")):
        response = await client.patch(
            f"{USERS}/{user.id}", headers=admin.headers, json={field: value}
        )
        problem = assert_problem(response, 422, "VALIDATION_ERROR")
        assert [e["field"] for e in problem["errors"]] == [field]


async def test_admin_update_with_an_unknown_role_is_422(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    user = await factory.user()
    response = await client.patch(
        f"{USERS}/{user.id}", headers=admin.headers, json={"role": "SUPERUSER"}
    )
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_admin_update_checks_role_then_input_then_existence(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    # docs/api.md §1 orders the checks: 401, then 403 before any lookup, then 422, then 404.
    user = await factory.user()
    admin = await factory.admin()
    missing = f"{USERS}/{uuid.uuid4()}"
    bad_body = {"role": "SUPERUSER"}
    assert_problem(await client.patch(missing, json=bad_body), 401)
    assert_problem(await client.patch(missing, headers=user.headers, json=bad_body), 403)
    assert_problem(await client.patch(missing, headers=admin.headers, json=bad_body), 422)
    assert_problem(await client.patch(missing, headers=admin.headers, json={}), 404)
