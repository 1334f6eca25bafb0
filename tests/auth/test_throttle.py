"""Login throttling (docs/api.md §3): per account whatever the address, and per client address."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis

from peerview.auth.login_throttle import (
    LEASE_SECONDS,
    AttemptStore,
    LoginThrottle,
    MemoryAttemptStore,
    RedisAttemptStore,
    Tally,
)
from peerview.clock import FakeClock
from peerview.config import Settings
from tests.factories import Factory
from tests.platform.apps import assert_problem, client_for, extra_app

LOGIN = "/api/auth/login"
WINDOW_MINUTES = 15
REDIS_PREFIX = "peerview:login-failures:"
WRONG_PASSWORD = "wrong password!"


def unique_addresses(count: int) -> list[str]:
    """Addresses no other test uses, so counters shared through Redis never collide."""
    base = f"10.{random.randrange(256)}.{random.randrange(256)}"
    return [f"{base}.{i}" for i in range(count)]


async def login_from(
    app: FastAPI, address: str, email: str, password: str | None = None
) -> httpx.Response:
    async with client_for(app, address) as c:
        return await c.post(LOGIN, json={"email": email, "password": password or WRONG_PASSWORD})


def assert_throttled(response: httpx.Response) -> int:
    assert_problem(response, 429, "TOO_MANY_LOGIN_ATTEMPTS")
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= WINDOW_MINUTES * 60
    return retry_after


async def test_eleventh_failure_for_one_account_is_429_whatever_the_address(
    app: FastAPI, factory: Factory
) -> None:
    user = await factory.user()
    addresses = unique_addresses(12)
    for address in addresses[:10]:
        assert (await login_from(app, address, user.email)).status_code == 401
    assert_throttled(await login_from(app, addresses[10], user.email))


async def test_right_password_of_a_throttled_account_is_refused_until_the_window_passes(
    app: FastAPI, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    for address in unique_addresses(10):
        await login_from(app, address, user.email)
    fresh_address = unique_addresses(1)[0]
    assert_throttled(await login_from(app, fresh_address, user.email, user.password))
    clock.advance(minutes=WINDOW_MINUTES - 1)
    assert_throttled(await login_from(app, fresh_address, user.email, user.password))
    clock.advance(minutes=1)
    assert (await login_from(app, fresh_address, user.email, user.password)).status_code == 200


async def test_retry_after_counts_down_to_the_oldest_failure_leaving_the_window(
    app: FastAPI, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    for address in unique_addresses(10):
        await login_from(app, address, user.email)
    clock.advance(minutes=5)
    retry_after = assert_throttled(await login_from(app, "10.9.9.9", user.email))
    assert retry_after == (WINDOW_MINUTES - 5) * 60


async def test_throttling_one_account_leaves_other_accounts_alone(
    app: FastAPI, factory: Factory
) -> None:
    victim = await factory.user()
    bystander = await factory.user()
    address = unique_addresses(1)[0]
    for _ in range(11):
        await login_from(app, address, victim.email)
    assert_throttled(await login_from(app, address, victim.email))
    ok = await login_from(app, address, bystander.email, bystander.password)
    assert ok.status_code == 200


async def test_email_case_does_not_escape_the_account_counter(
    app: FastAPI, factory: Factory
) -> None:
    user = await factory.user()
    for i, address in enumerate(unique_addresses(10)):
        variant = user.email.upper() if i % 2 else user.email
        await login_from(app, address, variant)
    assert_throttled(await login_from(app, "10.9.9.9", user.email.title()))


def cheap_hashing(settings: Settings) -> Settings:
    """The same limits with a cheap argon2 cost, for tests that need a hundred failures.

    Unknown e-mails are checked against a decoy hashed at this cost; what is under test
    is the count, and a hundred full-cost checks would be most of the suite's time.
    model_copy skips validation, which would refuse a cost this low, as it should.
    """
    return settings.model_copy(update={"argon2_memory_kib": 1024, "argon2_time_cost": 1})


async def fail_from(app: FastAPI, address: str, count: int) -> list[int]:
    """`count` failures from `address`, each for a different unknown account."""
    async with client_for(app, address) as c:

        async def attempt() -> int:
            email = f"nobody-{uuid.uuid4().hex}@example.com"
            response = await c.post(LOGIN, json={"email": email, "password": WRONG_PASSWORD})
            return response.status_code

        # Concurrent, so argon2's threads share the work and the test stays quick.
        return list(await asyncio.gather(*(attempt() for _ in range(count))))


async def test_more_than_100_failures_from_one_address_is_429_for_any_account(
    settings: Settings, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    noisy, quiet = unique_addresses(2)
    async with extra_app(cheap_hashing(settings), clock) as app:
        assert await fail_from(app, noisy, 100) == [401] * 100
        assert_throttled(await login_from(app, noisy, user.email, user.password))
        assert_throttled(await login_from(app, noisy, f"new-{uuid.uuid4().hex}@example.com"))
        assert (await login_from(app, quiet, user.email, user.password)).status_code == 200
        clock.advance(minutes=WINDOW_MINUTES)
        assert (await login_from(app, noisy, user.email, user.password)).status_code == 200


async def test_oauth2_token_form_shares_the_login_counters(app: FastAPI, factory: Factory) -> None:
    user = await factory.user()
    address = unique_addresses(1)[0]
    async with client_for(app, address) as c:
        for _ in range(10):
            form = {"username": user.email, "password": WRONG_PASSWORD}
            assert (await c.post("/api/auth/token", data=form)).status_code == 401
        assert_throttled(await c.post(LOGIN, json={"email": user.email, "password": user.password}))


# --- Redis-backed counters ---------------------------------------------------------------


@pytest.fixture
def redis_settings(settings: Settings, redis_url: str) -> Settings:
    return settings.model_copy(update={"redis_url": redis_url})


async def forget(redis_url: str, *keys: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        await redis.delete(*(REDIS_PREFIX + key for key in keys))
    finally:
        await redis.aclose()


async def test_redis_counters_are_shared_between_app_instances(
    redis_settings: Settings, redis_url: str, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    addresses = unique_addresses(12)
    keys = [f"account:{user.email}", *(f"address:{a}" for a in addresses)]
    await forget(redis_url, *keys)
    try:
        async with (
            extra_app(redis_settings, clock) as first,
            extra_app(redis_settings, clock) as second,
        ):
            for i, address in enumerate(addresses[:10]):
                instance = first if i % 2 else second
                assert (await login_from(instance, address, user.email)).status_code == 401
            assert_throttled(await login_from(first, addresses[10], user.email, user.password))
            assert_throttled(await login_from(second, addresses[11], user.email, user.password))
            clock.advance(minutes=WINDOW_MINUTES)
            ok = await login_from(second, addresses[11], user.email, user.password)
            assert ok.status_code == 200
    finally:
        await forget(redis_url, *keys)


async def test_redis_address_counter_is_shared_between_app_instances(
    redis_settings: Settings, redis_url: str, factory: Factory
) -> None:
    user = await factory.user()
    (address,) = unique_addresses(1)
    await forget(redis_url, f"address:{address}")
    try:
        async with (
            extra_app(cheap_hashing(redis_settings), factory.clock) as first,
            extra_app(cheap_hashing(redis_settings), factory.clock) as second,
        ):
            assert await fail_from(first, address, 50) == [401] * 50
            assert await fail_from(second, address, 50) == [401] * 50
            assert_throttled(await login_from(first, address, user.email, user.password))
            assert_throttled(await login_from(second, address, user.email, user.password))
    finally:
        await forget(redis_url, f"address:{address}")


async def test_unreachable_redis_still_throttles_in_memory(
    settings: Settings, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    broken = settings.model_copy(update={"redis_url": "redis://127.0.0.1:1/0"})
    async with extra_app(broken, clock) as instance:
        for address in unique_addresses(10):
            assert (await login_from(instance, address, user.email)).status_code == 401
        assert_throttled(await login_from(instance, "10.9.9.9", user.email, user.password))


async def test_concurrent_wrong_passwords_cannot_exceed_the_account_limit(
    app: FastAPI, factory: Factory
) -> None:
    # A burst sent at once must not slip past the check that each attempt makes first.
    user = await factory.user()
    addresses = unique_addresses(30)
    responses = await asyncio.gather(*(login_from(app, a, user.email) for a in addresses))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [401] * 10 + [429] * 20


async def test_concurrent_failures_cannot_exceed_the_address_limit(
    settings: Settings, clock: FakeClock
) -> None:
    (address,) = unique_addresses(1)
    async with extra_app(cheap_hashing(settings), clock) as app:
        statuses = await fail_from(app, address, 130)
    assert sorted(statuses) == [401] * 100 + [429] * 30


async def test_concurrent_attempts_through_redis_cannot_exceed_the_account_limit(
    redis_settings: Settings, redis_url: str, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    addresses = unique_addresses(30)
    keys = [f"account:{user.email}", *(f"address:{a}" for a in addresses)]
    await forget(redis_url, *keys)
    try:
        async with (
            extra_app(redis_settings, clock) as first,
            extra_app(redis_settings, clock) as second,
        ):
            responses = await asyncio.gather(
                *(
                    login_from(first if i % 2 else second, a, user.email)
                    for i, a in enumerate(addresses)
                )
            )
        assert sorted(r.status_code for r in responses) == [401] * 10 + [429] * 20
    finally:
        await forget(redis_url, *keys)


async def test_memory_counters_forget_accounts_nobody_tries_any_more() -> None:
    # Spraying unknown e-mails must not grow the process's memory without bound.
    clock = FakeClock()
    throttle = LoginThrottle(
        clock=clock, window=timedelta(minutes=15), max_per_account=10, max_per_address=100
    )
    for i in range(500):
        attempt = await throttle.begin(
            email=f"sprayed-{i}@example.com", address=f"10.1.{i // 250}.{i % 250}"
        )
        await throttle.failed(attempt)
    clock.advance(minutes=WINDOW_MINUTES + 1)
    await throttle.begin(email="later@example.com", address="10.2.0.1")
    assert throttle._memory.keys() == {"account:later@example.com", "address:10.2.0.1"}


def throttle_over(store: MemoryAttemptStore, clock: FakeClock) -> LoginThrottle:
    """The limits of docs/api.md §3.3, counted in `store` as in a shared Redis."""
    return LoginThrottle(
        clock=clock,
        window=timedelta(minutes=WINDOW_MINUTES),
        max_per_account=10,
        max_per_address=100,
        store=store,
    )


class FlakyStore(MemoryAttemptStore):
    """A shared store that can stop answering, and come back empty (a Redis restart)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def _answer(self) -> None:
        if self.down:
            raise ConnectionError("store down")

    async def enter(
        self, keys: Sequence[str], member: str, *, now: float, window: float, lease: float
    ) -> list[Tally]:
        self._answer()
        return await super().enter(keys, member, now=now, window=window, lease=lease)

    async def fail(self, keys: Sequence[str], member: str, *, now: float, window: float) -> None:
        self._answer()
        await super().fail(keys, member, now=now, window=window)

    async def leave(self, keys: Sequence[str], member: str, *, forgive: Sequence[str]) -> None:
        self._answer()
        await super().leave(keys, member, forgive=forgive)

    async def restore(self, key: str, failures: dict[str, float], *, window: float) -> None:
        self._answer()
        await super().restore(key, failures, window=window)


async def test_failures_counted_while_the_store_was_down_are_written_back_when_it_returns() -> None:
    clock = FakeClock()
    shared = FlakyStore()
    throttle = throttle_over(shared, clock)
    shared.down = True
    for _ in range(10):  # counted in this process's memory only
        attempt = await throttle.begin(email="a@example.com", address="10.4.0.1")
        assert attempt.retry_after is None
        await throttle.failed(attempt)
    shared.down = False  # back, and empty: it kept nothing
    assert shared.keys() == set()
    clock.advance(minutes=5)
    refused = await throttle.begin(email="a@example.com", address="10.4.0.2")
    assert refused.retry_after == 10 * 60  # the oldest of the ten leaves the window in 10 min
    # The store now holds the ten, so every process sharing it refuses the account too.
    other = throttle_over(shared, clock)
    assert (await other.begin(email="a@example.com", address="10.4.0.3")).retry_after == 10 * 60


# --- an attempt counts once it is judged ----------------------------------------------------


async def test_many_right_passwords_at_once_for_one_account_all_succeed(
    app: FastAPI, factory: Factory
) -> None:
    # More than the account's limit (10) of right passwords at once: none is refused for
    # arriving together, since none of them is a failure.
    user = await factory.user()
    (address,) = unique_addresses(1)
    async with client_for(app, address) as c:

        async def login() -> int:
            body = {"email": user.email, "password": user.password}
            return (await c.post(LOGIN, json=body)).status_code

        statuses = await asyncio.gather(*(login() for _ in range(25)))
    assert statuses == [200] * 25


async def test_many_right_passwords_at_once_from_one_address_all_succeed(
    settings: Settings, factory: Factory, clock: FakeClock
) -> None:
    # More than the address's limit (5 here) of people behind one address logging in at once.
    users = [await factory.user() for _ in range(16)]
    (address,) = unique_addresses(1)
    limited = settings.model_copy(update={"login_max_failures_per_address": 5})
    async with extra_app(limited, clock) as app, client_for(app, address) as c:
        responses = await asyncio.gather(
            *(c.post(LOGIN, json={"email": u.email, "password": u.password}) for u in users)
        )
        assert [r.status_code for r in responses] == [200] * 16
        # The limit itself still holds for that address.
        assert await fail_from(app, address, 5) == [401] * 5
        assert_throttled(await login_from(app, address, users[0].email, users[0].password))


async def test_right_passwords_at_once_through_redis_all_succeed(
    redis_settings: Settings, redis_url: str, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    (address,) = unique_addresses(1)
    keys = [f"account:{user.email}", f"address:{address}"]
    await forget(redis_url, *keys)
    try:
        async with (
            extra_app(redis_settings, clock) as first,
            extra_app(redis_settings, clock) as second,
        ):
            responses = await asyncio.gather(
                *(
                    login_from(first if i % 2 else second, address, user.email, user.password)
                    for i in range(24)
                )
            )
        assert [r.status_code for r in responses] == [200] * 24
    finally:
        await forget(redis_url, *keys)


async def test_a_burst_of_wrong_and_right_passwords_never_exceeds_the_account_limit(
    app: FastAPI, factory: Factory
) -> None:
    # Concurrent wrong passwords, and the owner's right one among them: whatever the order in
    # which they are judged, no more than 10 of the wrong ones are ever counted, and each
    # refusal is a 429, never an eleventh check of a wrong password.
    user = await factory.user()
    addresses = unique_addresses(31)
    wrong = [login_from(app, a, user.email) for a in addresses[:30]]
    right = login_from(app, addresses[30], user.email, user.password)
    *guesses, owner = await asyncio.gather(*wrong, right)
    statuses = sorted(r.status_code for r in guesses)
    judged = statuses.count(401)
    assert statuses == [401] * judged + [429] * (30 - judged)
    if owner.status_code == 200:
        # The owner's success forgave what came before it: at most 10 after it, 10 before.
        assert judged <= 20
    else:
        assert_throttled(owner)
        assert judged == 10


@pytest.fixture(params=["memory", "redis"])
async def shared_store(request: pytest.FixtureRequest) -> AsyncIterator[AttemptStore | None]:
    """No shared store (this process's memory), or Redis as several processes share it."""
    if request.param == "memory":
        yield None
        return
    redis = Redis.from_url(request.getfixturevalue("redis_url"))
    try:
        yield RedisAttemptStore(redis)
    finally:
        await redis.aclose()


def one_at_a_time(
    clock: FakeClock, store: AttemptStore | None, *, max_wait: float = 10.0
) -> LoginThrottle:
    """One failure allowed per account: one attempt in flight fills it."""
    return LoginThrottle(
        clock=clock,
        window=timedelta(minutes=WINDOW_MINUTES),
        max_per_account=1,
        max_per_address=100,
        store=store,
        max_wait=max_wait,
    )


def fresh_email() -> str:
    """An account no other test (or earlier run, through Redis) has counted anything for."""
    return f"one-{uuid.uuid4().hex}@example.com"


async def test_an_attempt_in_flight_is_not_a_failure_the_next_one_waits_for_it(
    shared_store: AttemptStore | None,
) -> None:
    throttle = one_at_a_time(FakeClock(), shared_store)
    email = fresh_email()
    first = await throttle.begin(email=email, address="10.5.0.1")
    assert first.retry_after is None
    second = asyncio.ensure_future(throttle.begin(email=email, address="10.5.0.2"))
    await asyncio.sleep(0.05)
    assert not second.done(), "judged while the first could still become the one failure"
    await throttle.succeeded(first)
    assert (await asyncio.wait_for(second, timeout=5)).retry_after is None


async def test_a_waiting_attempt_is_refused_once_the_one_in_flight_fails(
    shared_store: AttemptStore | None,
) -> None:
    throttle = one_at_a_time(FakeClock(), shared_store)
    email = fresh_email()
    first = await throttle.begin(email=email, address="10.5.0.1")
    second = asyncio.ensure_future(throttle.begin(email=email, address="10.5.0.2"))
    await asyncio.sleep(0.05)
    await throttle.failed(first)
    refused = await asyncio.wait_for(second, timeout=5)
    assert (refused.retry_after, refused.crowded) == (WINDOW_MINUTES * 60, False)


async def test_an_attempt_that_finds_no_room_in_time_is_refused_and_holds_no_place(
    shared_store: AttemptStore | None,
) -> None:
    throttle = one_at_a_time(FakeClock(), shared_store, max_wait=0.05)
    email = fresh_email()
    first = await throttle.begin(email=email, address="10.5.0.1")
    refused = await throttle.begin(email=email, address="10.5.0.2")
    assert (refused.retry_after, refused.crowded) == (1, True)
    await throttle.succeeded(first)
    assert (await throttle.begin(email=email, address="10.5.0.3")).retry_after is None


async def test_a_place_held_by_an_attempt_that_never_ended_is_given_up_after_a_minute(
    shared_store: AttemptStore | None,
) -> None:
    # A process that died mid-attempt leaves its mark in the shared store.
    clock = FakeClock()
    email = fresh_email()
    dead = one_at_a_time(clock, shared_store, max_wait=0.05)
    await dead.begin(email=email, address="10.5.0.1")  # never judged
    # Without a shared store, the mark is in this process's memory: the same throttle.
    alive = dead if shared_store is None else one_at_a_time(clock, shared_store, max_wait=0.05)
    assert (await alive.begin(email=email, address="10.5.0.2")).retry_after == 1
    clock.advance(seconds=LEASE_SECONDS + 1)
    assert (await alive.begin(email=email, address="10.5.0.2")).retry_after is None


async def test_an_attempt_that_was_never_judged_counts_against_no_one(
    app: FastAPI, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await factory.user()
    (address,) = unique_addresses(1)

    async def broken(*args: object, **kwargs: object) -> bool:
        raise RuntimeError("the password check failed")

    with monkeypatch.context() as patched:
        patched.setattr(app.services.passwords, "verify", broken)
        for _ in range(12):
            assert (await login_from(app, address, user.email)).status_code == 500
    ok = await login_from(app, address, user.email, user.password)
    assert ok.status_code == 200, ok.text


async def test_a_login_that_finds_no_room_in_time_is_429_retry_after_1(
    app: FastAPI, factory: Factory, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = await factory.user()
    throttle = one_at_a_time(clock, None, max_wait=0.05)
    app.services = dataclasses.replace(app.services, login_throttle=throttle)
    checking, release = asyncio.Event(), asyncio.Event()
    verify = app.services.passwords.verify

    async def held(password_hash: str | None, password: str) -> bool:
        checking.set()
        await release.wait()
        return await verify(password_hash, password)

    monkeypatch.setattr(app.services.passwords, "verify", held)
    address_a, address_b = unique_addresses(2)
    first = asyncio.ensure_future(login_from(app, address_a, user.email))
    await asyncio.wait_for(checking.wait(), timeout=5)
    refused = await login_from(app, address_b, user.email, user.password)
    body = assert_problem(refused, 429, "TOO_MANY_LOGIN_ATTEMPTS")
    assert refused.headers["retry-after"] == "1"
    assert body["detail"] == "Too many logins at once; try again in a moment"
    release.set()
    assert (await first).status_code == 401
