"""Failed-login throttling (docs/api.md §3.3): a failure counts once it is judged, and a burst
of attempts never gets more tries than the limit.

Per account and per client address, an attempt is counted as a failure when its password
check says so, not before. What keeps a burst honest is the attempts in flight: an attempt
is judged only while the failures already counted plus the attempts being judged, itself
included, are within the limit, for its account and its address alike. Each attempt in
flight becomes at most one failure, so the failures counted within the window never exceed
the limit, however many attempts arrive at once (and, with Redis, at however many
processes). The mark and the counts are taken in one step, and a failure replaces its mark in
one step, so no attempt is ever counted by nobody.

An attempt that finds no room waits for the attempts being judged (a password check each),
then tries again; it is refused with 429 only once the failures alone reach the limit, or if
it found no room within MAX_WAIT_SECONDS. So many right passwords arriving together are all
judged, a few at a time when the limit is near, never refused for arriving together.

A mark is dropped after LEASE_SECONDS, so a process that died mid-attempt holds no place for
long. Counts live in Redis when it is configured; while it does not answer, each process
counts in its own memory and writes back the failures it counted once Redis answers again.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from peerview.auth.throttle import MemoryFailureStore
from peerview.clock import Clock

logger = logging.getLogger(__name__)

# How long an attempt may wait for room before it is refused (429, Retry-After: 1).
MAX_WAIT_SECONDS = 10.0
# How long an attempt's mark holds its place: far longer than any password check.
LEASE_SECONDS = 60.0
# The pause between two tries of a waiting attempt: doubling from the first to the last,
# with jitter, so that the waiters of a burst do not all try at the same instant.
FIRST_PAUSE_SECONDS = 0.005
LAST_PAUSE_SECONDS = 0.1


@dataclass(frozen=True, slots=True)
class Tally:
    """One key's counts, taken in the step that marked an attempt in flight."""

    failures: int  # within the window
    oldest: float  # the time of the oldest of them (meaningless when there are none)
    in_flight: int  # attempts being judged, the one just marked included


class AttemptStore(Protocol):
    async def enter(
        self, keys: Sequence[str], member: str, *, now: float, window: float, lease: float
    ) -> list[Tally]:
        """Mark `member` in flight under each key, and count each key's failures within the
        window and marks younger than `lease`, in one step."""
        ...

    async def fail(self, keys: Sequence[str], member: str, *, now: float, window: float) -> None:
        """In one step: `member`'s marks become failures at `now`."""
        ...

    async def leave(self, keys: Sequence[str], member: str, *, forgive: Sequence[str]) -> None:
        """Take back `member`'s marks and forget the failures of the keys in `forgive`."""
        ...

    async def restore(self, key: str, failures: dict[str, float], *, window: float) -> None:
        """Count again `failures` (member: time) that were counted elsewhere meanwhile."""
        ...


class MemoryAttemptStore:
    """One process's counts: failures and marks, each a sliding window per key."""

    def __init__(self) -> None:
        self.failures = MemoryFailureStore()
        self.marks = MemoryFailureStore()

    async def enter(
        self, keys: Sequence[str], member: str, *, now: float, window: float, lease: float
    ) -> list[Tally]:
        tallies = []
        for key in keys:
            in_flight, _ = await self.marks.reserve(key, member, now=now, window=lease)
            failures, oldest = self.failures.tally(key, now=now, window=window)
            tallies.append(Tally(failures=failures, oldest=oldest, in_flight=in_flight))
        return tallies

    async def fail(self, keys: Sequence[str], member: str, *, now: float, window: float) -> None:
        for key in keys:
            await self.failures.reserve(key, member, now=now, window=window)
            await self.marks.release(key, member)

    async def leave(self, keys: Sequence[str], member: str, *, forgive: Sequence[str]) -> None:
        for key in keys:
            await self.marks.release(key, member)
        for key in forgive:
            await self.failures.clear(key)

    async def restore(self, key: str, failures: dict[str, float], *, window: float) -> None:
        await self.failures.restore(key, failures, window=window)

    def keys(self) -> set[str]:
        """The keys with failures or marks still held (for tests and diagnostics)."""
        return self.failures.keys() | self.marks.keys()


class RedisAttemptStore:
    """Two sorted sets per key, scored by time: its failures, and its attempts in flight."""

    def __init__(
        self,
        redis: object,
        failures_prefix: str = "peerview:login-failures:",
        marks_prefix: str = "peerview:login-in-flight:",
    ) -> None:
        from redis.asyncio import Redis

        assert isinstance(redis, Redis)
        self._redis: Redis = redis
        self._failures = failures_prefix
        self._marks = marks_prefix

    async def enter(
        self, keys: Sequence[str], member: str, *, now: float, window: float, lease: float
    ) -> list[Tally]:
        # MULTI/EXEC: no other client's command runs between the mark and the counts.
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                failures, marks = self._failures + key, self._marks + key
                pipe.zremrangebyscore(failures, "-inf", now - window)
                pipe.zremrangebyscore(marks, "-inf", now - lease)
                pipe.zadd(marks, {member: now})
                pipe.expire(marks, math.ceil(lease) + 1)
                pipe.zcard(failures)
                pipe.zrange(failures, 0, 0, withscores=True)
                pipe.zcard(marks)
            results = await pipe.execute()
        tallies = []
        for i in range(len(keys)):
            *_, failures, oldest, in_flight = results[i * 7 : i * 7 + 7]
            tallies.append(
                Tally(
                    failures=int(failures),
                    oldest=float(oldest[0][1]) if oldest else now,
                    in_flight=int(in_flight),
                )
            )
        return tallies

    async def fail(self, keys: Sequence[str], member: str, *, now: float, window: float) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.zadd(self._failures + key, {member: now})
                pipe.expire(self._failures + key, math.ceil(window) + 1)
                pipe.zrem(self._marks + key, member)
            await pipe.execute()

    async def leave(self, keys: Sequence[str], member: str, *, forgive: Sequence[str]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.zrem(self._marks + key, member)
            for key in forgive:
                pipe.delete(self._failures + key)
            await pipe.execute()

    async def restore(self, key: str, failures: dict[str, float], *, window: float) -> None:
        name = self._failures + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(name, failures)
            pipe.expire(name, math.ceil(window) + 1)
            await pipe.execute()


class AttemptCounter:
    """The counts in a shared store, mirrored in this process's memory.

    Whatever is counted is also counted in memory, so that if the shared store stops
    answering the limits still hold, per process; the failures counted only in memory
    meanwhile are written to the store once it answers again.
    """

    def __init__(
        self, *, window: float, memory: MemoryAttemptStore, store: AttemptStore | None
    ) -> None:
        self.window = window
        self._memory = memory
        self._store: AttemptStore | None = store
        # key -> failures counted in memory only, while the store failed
        self._unsynced: dict[str, set[str]] = {}

    async def enter(self, keys: Sequence[str], member: str, now: float) -> list[Tally]:
        local = await self._memory.enter(
            keys, member, now=now, window=self.window, lease=LEASE_SECONDS
        )
        if self._store is None:
            return local
        try:
            if self._unsynced:
                await self._write_back(self._store)
            return await self._store.enter(
                keys, member, now=now, window=self.window, lease=LEASE_SECONDS
            )
        except Exception as exc:
            logger.warning("throttle store unavailable (%r); counting in memory", exc)
            return local

    async def _write_back(self, store: AttemptStore) -> None:
        for key in list(self._unsynced):
            held = self._memory.failures.held(key, self._unsynced[key])
            if held:
                await store.restore(key, held, window=self.window)
            del self._unsynced[key]

    async def fail(self, keys: Sequence[str], member: str, now: float) -> None:
        await self._memory.fail(keys, member, now=now, window=self.window)
        if self._store is None:
            return
        try:
            await self._store.fail(keys, member, now=now, window=self.window)
        except Exception:
            logger.warning("throttle store unavailable", exc_info=True)
            for key in keys:
                self._unsynced.setdefault(key, set()).add(member)

    async def leave(self, keys: Sequence[str], member: str, *, forgive: Sequence[str] = ()) -> None:
        for key in forgive:
            self._unsynced.pop(key, None)
        await self._memory.leave(keys, member, forgive=forgive)
        if self._store is None:
            return
        try:
            await self._store.leave(keys, member, forgive=forgive)
        except Exception:
            logger.warning("throttle store unavailable", exc_info=True)


@dataclass(slots=True)
class Attempt:
    """One login attempt: in flight from `begin` until it failed, succeeded or was abandoned.

    An attempt that names no account (a setup code, docs/api.md §3.5) is counted for its
    address only.
    """

    account_key: str | None
    address_key: str
    member: str = field(default_factory=lambda: uuid.uuid4().hex)
    retry_after: int | None = None
    # Refused for finding no room in time, rather than for the failures counted.
    crowded: bool = False

    @property
    def keys(self) -> tuple[str, ...]:
        if self.account_key is None:
            return (self.address_key,)
        return (self.account_key, self.address_key)


class LoginThrottle:
    def __init__(
        self,
        *,
        clock: Clock,
        window: timedelta,
        max_per_account: int,
        max_per_address: int,
        store: AttemptStore | None = None,
        max_wait: float = MAX_WAIT_SECONDS,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._max_per_account = max_per_account
        self._max_per_address = max_per_address
        self._memory = MemoryAttemptStore()
        self._counter = AttemptCounter(
            window=window.total_seconds(), memory=self._memory, store=store
        )
        # The wait for room is measured on a monotonic timer, not Peerview's clock: it is how
        # long a request really waits, which a frozen or simulated clock must not change.
        self._max_wait = max_wait
        self._timer = timer

    async def begin(self, *, email: str | None, address: str) -> Attempt:
        """An attempt in flight, once there is room for it; its `retry_after` is set instead
        (and it holds no place) when it is refused. Without `email`, only the address's
        limit applies (and its failures count for the address alone)."""
        attempt = Attempt(
            account_key=None if email is None else f"account:{email}",
            address_key=f"address:{address}",
        )
        limits: tuple[int, ...] = (self._max_per_address,)
        if email is not None:
            limits = (self._max_per_account, self._max_per_address)
        deadline = self._timer() + self._max_wait
        pause = FIRST_PAUSE_SECONDS
        while True:
            now = self._clock.now().timestamp()
            tallies = await self._counter.enter(attempt.keys, attempt.member, now)
            wait: float | None = None
            crowded = False
            for tally, limit in zip(tallies, limits, strict=True):
                if tally.failures >= limit:
                    remaining = tally.oldest + self._counter.window - now
                    wait = remaining if wait is None else max(wait, remaining)
                elif tally.failures + tally.in_flight > limit:
                    crowded = True
            if wait is None and not crowded:
                return attempt
            await self._counter.leave(attempt.keys, attempt.member)
            if wait is not None:
                attempt.retry_after = max(1, math.ceil(wait))
                return attempt
            left = deadline - self._timer()
            if left <= 0:
                attempt.retry_after, attempt.crowded = 1, True
                return attempt
            jitter = 0.5 + random.random()  # noqa: S311 (spreads retries; not a secret)
            await asyncio.sleep(min(left, pause * jitter))
            pause = min(pause * 2, LAST_PAUSE_SECONDS)

    async def failed(self, attempt: Attempt) -> None:
        """The password was wrong (or the account unknown or inactive): one failure for the
        account and one for the address, in place of the attempt's marks."""
        await self._counter.fail(attempt.keys, attempt.member, self._clock.now().timestamp())

    async def succeeded(self, attempt: Attempt) -> None:
        """The password was right: the account's failures are forgiven, the address's kept."""
        forgive = () if attempt.account_key is None else (attempt.account_key,)
        await self._counter.leave(attempt.keys, attempt.member, forgive=forgive)

    async def abandon(self, attempt: Attempt) -> None:
        """Forget an attempt that was never judged (the database failed, say)."""
        await self._counter.leave(attempt.keys, attempt.member)
