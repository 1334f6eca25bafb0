"""Guessing setup codes is throttled as logins are, by address (docs/api.md §3.3, §3.5)."""

from __future__ import annotations

import random

import httpx
from fastapi import FastAPI

from peerview.clock import FakeClock
from peerview.config import Settings
from tests.platform.apps import assert_problem, client_for, extra_app
from tests.setup.support import SETUP_ADMIN, admin_body, count_admins, issue_code

WINDOW_MINUTES = 15
WRONG = "WRONG-CODE-0000"


def few_failures(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"login_max_failures_per_address": 3, "login_max_failures_per_account": 2}
    )


def unique_addresses(count: int) -> list[str]:
    base = f"10.{random.randrange(256)}.{random.randrange(256)}"
    return [f"{base}.{i}" for i in range(count)]


async def setup_from(app: FastAPI, address: str, code: str, **body: str) -> httpx.Response:
    async with client_for(app, address) as c:
        return await c.post(SETUP_ADMIN, json=admin_body(code, **body))


def assert_throttled(response: httpx.Response) -> int:
    assert_problem(response, 429, "TOO_MANY_LOGIN_ATTEMPTS")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= WINDOW_MINUTES * 60
    return retry_after


async def test_wrong_codes_past_the_address_limit_are_429_even_for_the_right_code(
    settings: Settings, clock: FakeClock
) -> None:
    noisy, quiet = unique_addresses(2)
    async with extra_app(few_failures(settings), clock) as app:
        code = await issue_code(app)
        for _ in range(3):
            assert_problem(await setup_from(app, noisy, WRONG), 403, "INVALID_SETUP_CODE")
        assert_throttled(await setup_from(app, noisy, code))
        assert await count_admins(app) == 0
        # Another address is not held back, and the window passing frees this one.
        clock.advance(minutes=WINDOW_MINUTES)
        assert (await setup_from(app, noisy, code)).status_code == 201
        assert_problem(await setup_from(app, quiet, WRONG), 403, "SETUP_CLOSED")


async def test_the_limit_is_per_address_not_per_setup(settings: Settings, clock: FakeClock) -> None:
    """Wrong codes from many addresses (more than the per-account limit) lock nobody out:
    there is no account to count them against."""
    addresses = unique_addresses(6)
    async with extra_app(few_failures(settings), clock) as app:
        code = await issue_code(app)
        for address in addresses[:5]:
            assert_problem(await setup_from(app, address, WRONG), 403, "INVALID_SETUP_CODE")
        assert (await setup_from(app, addresses[5], code)).status_code == 201


async def test_wrong_codes_and_failed_logins_share_the_address_limit(
    settings: Settings, clock: FakeClock
) -> None:
    (address,) = unique_addresses(1)
    async with extra_app(few_failures(settings), clock) as app:
        code = await issue_code(app)
        async with client_for(app, address) as c:
            login = {"email": "nobody@example.com", "password": "wrong password!"}
            assert (await c.post("/api/auth/login", json=login)).status_code == 401
            other = {"email": "someone@example.com", "password": "wrong password!"}
            assert (await c.post("/api/auth/login", json=other)).status_code == 401
        assert_problem(await setup_from(app, address, WRONG), 403, "INVALID_SETUP_CODE")
        assert_throttled(await setup_from(app, address, code))
        async with client_for(app, address) as c:
            third = {"email": "third@example.com", "password": "wrong password!"}
            assert_throttled(await c.post("/api/auth/login", json=third))


async def test_a_closed_setup_counts_no_failure(settings: Settings, clock: FakeClock) -> None:
    (address,) = unique_addresses(1)
    async with extra_app(few_failures(settings), clock) as limited:
        code = await issue_code(limited)
        assert (await setup_from(limited, address, code)).status_code == 201
        for n in range(5):
            response = await setup_from(limited, address, WRONG, email=f"late{n}@example.com")
            assert_problem(response, 403, "SETUP_CLOSED")
