"""Login does not tell an unknown e-mail from a wrong password, by answer or by time.

Both answer 401 INVALID_CREDENTIALS with the same body and headers (the request id aside),
and take the same time: an unknown e-mail is verified against a decoy hash made with the
same argon2 parameters, so both paths do one argon2 verification. Measured in process
through the ASGI app, the two kinds of attempt interleaved, 200 of each: their median times
must be within 10 % of each other.

The argon2 cost is 1 MiB and one pass in `make test` (cheap enough for 400 logins, and still
the same work on both paths); PEERVIEW_TIMING_ARGON2=production measures at the
production parameters (19 MiB, two passes, one lane), as `make soak` does.
"""

from __future__ import annotations

import gc
import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest

from peerview.auth.passwords import PasswordService
from peerview.config import Settings
from tests.factories import Factory
from tests.platform.apps import assert_problem

TRIES = 200
WARM_UP = 10
TOLERANCE = 0.10
PRODUCTION = os.environ.get("PEERVIEW_TIMING_ARGON2") == "production"
UNKNOWN = "nobody-at-all@example.com"
PASSWORD = "correct horse battery"
WRONG = "not the password at all"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Hundreds of failures on one account and one address must not be throttled here; the
    # throttle still counts every attempt, on both paths alike.
    changes: dict[str, object] = {
        "login_max_failures_per_account": 100_000,
        "login_max_failures_per_address": 100_000,
    }
    if not PRODUCTION:
        # model_copy skips validation, which would refuse a cost this low, as it should.
        changes |= {"argon2_memory_kib": 1024, "argon2_time_cost": 1, "argon2_parallelism": 1}
    return settings.model_copy(update=changes)


async def registered(client: httpx.AsyncClient) -> str:
    """An account whose hash the app made itself, with the same parameters as its decoy."""
    response = await client.post(
        "/api/auth/register",
        json={
            "name": "Timed",
            "email": "timed@example.com",
            "password": PASSWORD,
            "role": "INTERVIEWEE",
        },
    )
    assert response.status_code == 201, response.text
    return "timed@example.com"


async def login(
    client: httpx.AsyncClient, email: str, password: str
) -> tuple[float, httpx.Response]:
    began = time.perf_counter()
    response = await client.post("/api/auth/login", json={"email": email, "password": password})
    return time.perf_counter() - began, response


async def medians(
    client: httpx.AsyncClient, email: str, tries: int
) -> tuple[float, float, list[httpx.Response]]:
    """Median seconds of (unknown e-mail, wrong password), interleaved, and every answer."""
    unknown: list[float] = []
    wrong: list[float] = []
    answers: list[httpx.Response] = []
    gc.collect()
    gc.disable()  # a collection lands on whichever attempt happens to be running
    try:
        for i in range(WARM_UP + tries):
            # Alternate which goes first, so neither always follows the other.
            order = ((UNKNOWN, unknown), (email, wrong))
            for address, times in order if i % 2 else reversed(order):
                took, response = await login(client, address, WRONG)
                answers.append(response)
                if i >= WARM_UP:
                    times.append(took)
    finally:
        gc.enable()
    return statistics.median(unknown), statistics.median(wrong), answers


def apart(a: float, b: float) -> float:
    return max(a, b) / min(a, b) - 1


def comparable(response: httpx.Response) -> tuple[int, dict[str, object], dict[str, str]]:
    body = assert_problem(response, 401, "INVALID_CREDENTIALS")
    body.pop("request_id")
    headers = {
        k: v for k, v in response.headers.items() if k not in {"x-request-id", "content-length"}
    }
    return response.status_code, body, headers


async def test_unknown_email_and_wrong_password_answer_alike_in_the_same_time(
    factory: Factory,
) -> None:
    email = await registered(factory.client)
    unknown, wrong, answers = await medians(factory.client, email, TRIES)
    first = comparable(answers[0])
    assert all(comparable(r) == first for r in answers)
    cost = factory.app.services.settings
    print(
        f"\nlogin medians over {TRIES} each (argon2 m={cost.argon2_memory_kib} KiB,"
        f" t={cost.argon2_time_cost}, p={cost.argon2_parallelism}):"
        f" unknown e-mail {unknown * 1000:.2f} ms, wrong password {wrong * 1000:.2f} ms,"
        f" {apart(unknown, wrong):.1%} apart"
    )
    assert apart(unknown, wrong) <= TOLERANCE, (unknown, wrong)


@contextmanager
def decoy_skipped() -> Iterator[None]:
    """Login as it would be if an unknown e-mail skipped the hash check."""
    original = PasswordService.verify

    async def verify(self: PasswordService, password_hash: str | None, password: str) -> bool:
        if password_hash is None:
            return False
        return await original(self, password_hash, password)

    PasswordService.verify = verify  # type: ignore[method-assign]
    try:
        yield
    finally:
        PasswordService.verify = original  # type: ignore[method-assign]


async def test_the_measurement_sees_a_skipped_hash(factory: Factory) -> None:
    # The control: the same measurement, with the decoy check taken out, finds the two paths
    # far apart, so the test above would catch that regression.
    email = await registered(factory.client)
    with decoy_skipped():
        unknown, wrong, _ = await medians(factory.client, email, TRIES // 4)
    print(
        f"\nwith the decoy check taken out, over {TRIES // 4} each: unknown e-mail"
        f" {unknown * 1000:.2f} ms, wrong password {wrong * 1000:.2f} ms,"
        f" {apart(unknown, wrong):.1%} apart"
    )
    assert unknown < wrong
    assert apart(unknown, wrong) > TOLERANCE, (unknown, wrong)
