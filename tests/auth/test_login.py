"""Login (docs/api.md §3): one answer for every wrong credential, and no stall under load."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Mapping
from typing import Any

import httpx

from peerview.models.enums import Role
from tests.factories import Factory
from tests.platform.apps import assert_problem, bearer

LOGIN = "/api/auth/login"


def without_request_id(mapping: Mapping[str, Any]) -> dict[str, Any]:
    """All but the per-request id, which differs between any two responses."""
    return {k.lower(): v for k, v in mapping.items() if k.lower() not in REQUEST_ID_KEYS}


REQUEST_ID_KEYS = {"request_id", "x-request-id"}


async def test_login_returns_user_and_a_working_token(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user(Role.INTERVIEWER)
    response = await client.post(LOGIN, json={"email": user.email, "password": user.password})
    assert response.status_code == 200
    payload = response.json()
    assert payload["token_type"] == "bearer"
    assert payload["user"]["id"] == user.id
    assert payload["user"]["role"] == "INTERVIEWER"
    me = await client.get("/api/auth/me", headers=bearer(payload["access_token"]))
    assert me.json()["id"] == user.id


async def test_login_email_is_case_insensitive(client: httpx.AsyncClient, factory: Factory) -> None:
    user = await factory.user()
    response = await client.post(
        LOGIN, json={"email": user.email.upper(), "password": user.password}
    )
    assert response.status_code == 200


async def test_unknown_email_and_wrong_password_answer_identically(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    wrong_password = await client.post(
        LOGIN, json={"email": user.email, "password": "not the password"}
    )
    unknown_email = await client.post(
        LOGIN, json={"email": "nobody@example.com", "password": "not the password"}
    )
    assert_problem(wrong_password, 401, "INVALID_CREDENTIALS")
    assert unknown_email.status_code == wrong_password.status_code
    assert without_request_id(unknown_email.json()) == without_request_id(wrong_password.json())
    assert without_request_id(unknown_email.headers) == without_request_id(wrong_password.headers)


async def test_deactivated_account_login_answers_like_a_wrong_password(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    user = await factory.user()
    await client.patch(f"/api/users/{user.id}", headers=admin.headers, json={"is_active": False})
    right_password = await client.post(LOGIN, json={"email": user.email, "password": user.password})
    unknown_email = await client.post(
        LOGIN, json={"email": "nobody@example.com", "password": user.password}
    )
    assert_problem(right_password, 401, "INVALID_CREDENTIALS")
    assert without_request_id(right_password.json()) == without_request_id(unknown_email.json())
    assert without_request_id(right_password.headers) == without_request_id(unknown_email.headers)


async def test_login_with_an_unknown_field_is_422(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    response = await client.post(
        LOGIN, json={"email": user.email, "password": user.password, "role": "ADMIN"}
    )
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == ["role"]


async def test_oauth2_password_form_issues_a_bearer_token(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    response = await client.post(
        "/api/auth/token", data={"username": user.email, "password": user.password}
    )
    assert response.status_code == 200
    payload = response.json()
    assert payload["token_type"] == "bearer"
    me = await client.get("/api/auth/me", headers=bearer(payload["access_token"]))
    assert me.status_code == 200


async def test_me_returns_the_bare_user(client: httpx.AsyncClient, factory: Factory) -> None:
    user = await factory.user()
    response = await client.get("/api/auth/me", headers=user.headers)
    assert response.json() == {
        "id": user.id,
        "name": user.name,
        "email": user.email,
        "role": "INTERVIEWEE",
        "is_active": True,
        "email_notifications": True,
        "created_at": response.json()["created_at"],
    }


async def test_concurrent_logins_do_not_stall_the_event_loop(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    users = [await factory.user() for _ in range(5)]
    first_done = asyncio.Event()

    async def login(i: int) -> int:
        user = users[i % len(users)]
        response = await client.post(LOGIN, json={"email": user.email, "password": user.password})
        first_done.set()
        return response.status_code

    async def probe() -> float:
        started = time.perf_counter()
        response = await client.get("/api/health")
        assert response.status_code == 200
        return time.perf_counter() - started

    # The storm's clients and the prober run in this process too: a full collection of its
    # garbage (a fifth of a second with the whole suite loaded, on a busy machine) would be
    # measured as the server's stall. No collection while the storm lasts.
    gc.collect()
    gc.disable()
    try:
        storm = asyncio.gather(*(login(i) for i in range(50)))
        # Probe once the storm is under way: every other login is then hashing or waiting
        # for a hashing thread, which is when a hash on the event loop, or a database
        # connection held while hashing, would hold everyone else up.
        await asyncio.wait_for(first_done.wait(), timeout=10)
        latencies = []
        for _ in range(5):
            latencies.append(await probe())
            await asyncio.sleep(0.02)
        assert not storm.done(), "the storm ended before the probes: it proves nothing"
        assert await storm == [200] * 50
    finally:
        gc.enable()
    assert max(latencies) < 0.2, latencies
