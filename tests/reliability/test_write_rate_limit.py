"""The per-user write rate limit: 429 TOO_MANY_REQUESTS with Retry-After, nothing written.

Every authenticated POST, PUT, PATCH and DELETE under /api counts against its user's budget
of WRITE_RATE_LIMIT_PER_MINUTE in any sliding minute, or WRITE_RATE_LIMIT_ADMIN_PER_MINUTE for
an admin (the role read from the database); reads, login and registration do not. The window
moves with the app's injectable clock, so expiry is tested without sleeping.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from peerview.auth.throttle import WriteRateLimit
from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.models.enums import Role
from tests.factories import Factory, TestUser
from tests.platform.apps import assert_problem, client_for, extra_app
from tests.security.support import QUESTION, openapi, snapshot, valid_calls, write_operations

LIMIT = 5
ADMIN_LIMIT = 8
REDIS_PREFIX = "peerview:writes:"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "write_rate_limit_per_minute": LIMIT,
            "write_rate_limit_admin_per_minute": ADMIN_LIMIT,
        }
    )


def assert_limited(response: httpx.Response) -> int:
    """A 429 TOO_MANY_REQUESTS problem; returns its Retry-After in seconds."""
    assert_problem(response, 429, "TOO_MANY_REQUESTS")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= 60
    return retry_after


async def rename(client: httpx.AsyncClient, user: TestUser, name: str) -> httpx.Response:
    return await client.patch("/api/users/me", json={"name": name}, headers=user.headers)


async def name_of(client: httpx.AsyncClient, user: TestUser) -> str:
    response = await client.get("/api/auth/me", headers=user.headers)
    assert response.status_code == 200, response.text
    return str(response.json()["name"])


async def test_write_past_the_limit_is_429_with_retry_after_and_writes_nothing(
    factory: Factory,
) -> None:
    user = await factory.user()
    for i in range(LIMIT):
        assert (await rename(factory.client, user, f"Name {i}")).status_code == 200
    before = await snapshot(factory.app)
    response = await rename(factory.client, user, "Spam")
    assert assert_limited(response) == 60  # the clock has not moved since the first write
    assert await snapshot(factory.app) == before
    assert await name_of(factory.client, user) == f"Name {LIMIT - 1}"


async def test_reads_go_on_while_writes_are_limited(factory: Factory) -> None:
    user = await factory.user()
    for i in range(LIMIT + 1):
        await rename(factory.client, user, f"Name {i}")
    for _ in range(3 * LIMIT):
        assert (await factory.client.get("/api/auth/me", headers=user.headers)).status_code == 200
        listed = await factory.client.get("/api/notifications", headers=user.headers)
        assert listed.status_code == 200


async def test_other_users_are_not_affected(factory: Factory) -> None:
    spammer, other = await factory.user(), await factory.user()
    for i in range(LIMIT):
        assert (await rename(factory.client, spammer, f"Spam {i}")).status_code == 200
    assert_limited(await rename(factory.client, spammer, "More spam"))
    for i in range(LIMIT):
        assert (await rename(factory.client, other, f"Other {i}")).status_code == 200
    assert await name_of(factory.client, other) == f"Other {LIMIT - 1}"
    assert_limited(await rename(factory.client, spammer, "Still spam"))


async def test_the_window_slides_with_the_clock(factory: Factory, clock: FakeClock) -> None:
    user = await factory.user()
    for i in range(3):  # at 0 s
        assert (await rename(factory.client, user, f"Early {i}")).status_code == 200
    clock.advance(seconds=30)
    for i in range(LIMIT - 3):  # at 30 s
        assert (await rename(factory.client, user, f"Later {i}")).status_code == 200
    clock.advance(seconds=10)
    assert assert_limited(await rename(factory.client, user, "at 40 s")) == 20
    clock.advance(seconds=19)
    assert assert_limited(await rename(factory.client, user, "at 59 s")) == 1
    clock.advance(seconds=1)  # the three writes of 0 s have left the window
    for i in range(3):
        assert (await rename(factory.client, user, f"At 60 s {i}")).status_code == 200
    assert assert_limited(await rename(factory.client, user, "one too many")) == 30
    clock.advance(seconds=30)
    assert (await rename(factory.client, user, "at 90 s")).status_code == 200
    assert await name_of(factory.client, user) == "at 90 s"


async def test_refused_writes_do_not_push_the_window_back(
    factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    for i in range(LIMIT):
        await rename(factory.client, user, f"Name {i}")
    for _ in range(59):  # hammering once a second for the rest of the minute
        clock.advance(seconds=1)
        assert_limited(await rename(factory.client, user, "Spam"))
    clock.advance(seconds=1)
    assert (await rename(factory.client, user, "Patient")).status_code == 200


async def test_a_concurrent_burst_gets_exactly_the_limit_through(factory: Factory) -> None:
    admin = await factory.admin()
    before = len(await snapshot(factory.app))
    responses = await asyncio.gather(
        *(
            factory.client.post(
                "/api/questions", json={**QUESTION, "title": f"Q {i}"}, headers=admin.headers
            )
            for i in range(4 * ADMIN_LIMIT)
        )
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] * ADMIN_LIMIT + [429] * (3 * ADMIN_LIMIT)
    for r in responses:
        if r.status_code == 429:
            assert_limited(r)
    listed = await factory.client.get("/api/questions?limit=100", headers=admin.headers)
    titles = sorted(q["title"] for q in listed.json()["items"])
    created = sorted(r.json()["title"] for r in responses if r.status_code == 201)
    assert titles == created
    assert len(await snapshot(factory.app)) == before


async def test_every_authenticated_write_is_limited_and_only_the_limit_refused_it(
    factory: Factory, app: FastAPI
) -> None:
    unlimited = WriteRateLimit(clock=FakeClock(), per_minute=0, admin_per_minute=0)  # to prepare
    app.services = dataclasses.replace(app.services, write_limit=unlimited)
    calls = await valid_calls(factory)
    limiter_clock = FakeClock()  # a clock of its own, so the app's sessions keep their times
    limit = WriteRateLimit(clock=limiter_clock, per_minute=2, admin_per_minute=2)
    app.services = dataclasses.replace(app.services, write_limit=limit)
    schema = await openapi(factory.client)
    authenticated = {
        label for label, operation in write_operations(schema).items() if operation.get("security")
    }
    assert authenticated == {label for label, c in calls.items() if c.user is not None}
    for label, call in calls.items():
        if call.user is None:
            continue
        limiter_clock.advance(seconds=60)  # a fresh window: earlier calls of this user left it
        for _ in range(2):
            admin = call.user.role is Role.ADMIN
            assert await app.services.write_limit.check(call.user.id, admin=admin) is None
        before = await snapshot(app)
        refused = await call.send(factory.client)
        assert assert_limited(refused) == 60, label
        assert await snapshot(app) == before, label
        limiter_clock.advance(seconds=60)
        accepted = await call.send(factory.client)
        assert accepted.status_code < 300, (label, accepted.text)


async def test_openapi_documents_429_on_authenticated_writes_only(factory: Factory) -> None:
    schema = await openapi(factory.client)
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            documented: dict[str, Any] | None = operation["responses"].get("429")
            limited = method != "get" and bool(operation.get("security"))
            if limited:
                assert documented is not None, (method, path)
                assert "`TOO_MANY_REQUESTS`" in documented["description"], (method, path)
                content = documented["content"]["application/problem+json"]
                assert content["schema"] == {"$ref": "#/components/schemas/ProblemDetails"}
            elif documented is not None:  # the login throttle's own 429 (setup shares it)
                assert path in {"/api/auth/login", "/api/auth/token", "/api/setup/admin"}, (
                    method,
                    path,
                )
                assert "TOO_MANY_REQUESTS" not in documented["description"]


async def test_login_registration_and_anonymous_writes_are_not_counted(
    factory: Factory,
) -> None:
    user = await factory.user()
    for i in range(LIMIT):
        await rename(factory.client, user, f"Name {i}")
    assert_limited(await rename(factory.client, user, "Spam"))
    for _ in range(LIMIT + 1):
        response = await factory.client.post(
            "/api/auth/login", json={"email": user.email, "password": user.password}
        )
        assert response.status_code == 200, response.text
    for i in range(LIMIT + 1):
        response = await factory.client.post(
            "/api/auth/register",
            json={
                "name": f"New {i}",
                "email": f"rate-new-{i}-{user.id}@example.com",
                "password": "correct horse battery",
                "role": "INTERVIEWEE",
            },
        )
        assert response.status_code == 201, response.text
    # Authentication comes first: without a valid token it is 401, limit or not.
    anonymous = await factory.client.patch("/api/users/me", json={"name": "x"})
    assert_problem(anonymous, 401)
    forged = await factory.client.patch(
        "/api/users/me", json={"name": "x"}, headers={"Authorization": "Bearer nope"}
    )
    assert_problem(forged, 401)


async def test_limit_zero_turns_it_off(settings: Settings, clock: FakeClock) -> None:
    off = settings.model_copy(update={"write_rate_limit_per_minute": 0})
    async with extra_app(off, clock) as app, client_for(app) as client:
        user = await Factory(app=app, client=client, clock=clock).user()
        for i in range(4 * LIMIT):
            assert (await rename(client, user, f"Name {i}")).status_code == 200


async def test_an_admin_has_the_admin_limit_and_everyone_else_the_ordinary_one(
    factory: Factory,
) -> None:
    admin, interviewer, interviewee = (
        await factory.admin(),
        await factory.interviewer(),
        await factory.interviewee(),
    )
    for user, limit in ((admin, ADMIN_LIMIT), (interviewer, LIMIT), (interviewee, LIMIT)):
        for i in range(limit):
            response = await rename(factory.client, user, f"Name {i}")
            assert response.status_code == 200, (user.role, i, response.text)
        assert assert_limited(await rename(factory.client, user, "One too many")) == 60
        assert await name_of(factory.client, user) == f"Name {limit - 1}"


async def test_the_limit_follows_the_role_the_database_holds_now(factory: Factory) -> None:
    admin, user = await factory.admin(), await factory.interviewer()

    async def make(role: str) -> None:
        response = await factory.client.patch(
            f"/api/users/{user.id}", json={"role": role}, headers=admin.headers
        )
        assert response.status_code == 200, response.text

    for i in range(LIMIT):
        assert (await rename(factory.client, user, f"Name {i}")).status_code == 200
    assert_limited(await rename(factory.client, user, "Spam"))
    await make("ADMIN")
    # The same window, now measured against the admin limit.
    for i in range(ADMIN_LIMIT - LIMIT):
        assert (await rename(factory.client, user, f"As admin {i}")).status_code == 200
    assert_limited(await rename(factory.client, user, "Admin spam"))
    await make("INTERVIEWER")
    assert_limited(await rename(factory.client, user, "Demoted spam"))
    assert await name_of(factory.client, user) == f"As admin {ADMIN_LIMIT - LIMIT - 1}"


async def test_admin_limit_zero_turns_it_off_for_admins_only(
    settings: Settings, clock: FakeClock
) -> None:
    off = settings.model_copy(update={"write_rate_limit_admin_per_minute": 0})
    async with extra_app(off, clock) as app, client_for(app) as client:
        users = Factory(app=app, client=client, clock=clock)
        admin, user = await users.admin(), await users.interviewer()
        for i in range(4 * ADMIN_LIMIT):
            assert (await rename(client, admin, f"Admin {i}")).status_code == 200
        for i in range(LIMIT):
            assert (await rename(client, user, f"User {i}")).status_code == 200
        assert_limited(await rename(client, user, "Spam"))


async def test_an_import_counts_as_one_write_however_many_questions_it_holds(
    factory: Factory,
) -> None:
    admin = await factory.admin()
    body = [{**QUESTION, "title": f"Imported {i}"} for i in range(3 * ADMIN_LIMIT)]
    response = await factory.client.post("/api/questions/import", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    assert response.json()["created"] == 3 * ADMIN_LIMIT
    for i in range(ADMIN_LIMIT - 1):
        assert (await rename(factory.client, admin, f"Name {i}")).status_code == 200
    assert_limited(await rename(factory.client, admin, "One too many"))
    # An import refused by the limit writes none of its questions.
    before = await snapshot(factory.app)
    more = [{**QUESTION, "title": f"Refused {i}"} for i in range(3)]
    refused = await factory.client.post("/api/questions/import", json=more, headers=admin.headers)
    assert_limited(refused)
    assert await snapshot(factory.app) == before


async def forget(redis_url: str, *users: TestUser) -> None:
    redis = Redis.from_url(redis_url)
    try:
        await redis.delete(*(f"{REDIS_PREFIX}user:{u.id}" for u in users))
    finally:
        await redis.aclose()


async def test_redis_counts_are_shared_between_app_instances(
    settings: Settings, redis_url: str, factory: Factory, clock: FakeClock
) -> None:
    shared = settings.model_copy(update={"redis_url": redis_url})
    user, other = await factory.user(), await factory.user()
    await forget(redis_url, user, other)
    try:
        async with (
            extra_app(shared, clock) as first,
            extra_app(shared, clock) as second,
            client_for(first) as one,
            client_for(second) as two,
        ):
            for i in range(LIMIT):
                response = await rename(one if i % 2 else two, user, f"Name {i}")
                assert response.status_code == 200, response.text
            assert assert_limited(await rename(one, user, "Spam")) == 60
            assert assert_limited(await rename(two, user, "Spam")) == 60
            assert (await rename(one, other, "Unaffected")).status_code == 200
            clock.advance(seconds=60)
            assert (await rename(two, user, "Later")).status_code == 200
            assert (await rename(one, user, "Later again")).status_code == 200
    finally:
        await forget(redis_url, user, other)


async def test_unreachable_redis_still_limits_in_memory(
    settings: Settings, factory: Factory, clock: FakeClock
) -> None:
    broken = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    user = await factory.user()
    async with extra_app(broken, clock) as app, client_for(app) as client:
        for i in range(LIMIT):
            assert (await rename(client, user, f"Name {i}")).status_code == 200
        assert_limited(await rename(client, user, "Spam"))
