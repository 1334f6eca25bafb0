"""Sliding-window counters, and the per-user write rate limit built on them.

Writes: every authenticated write is counted per user, counted and judged in one step, so
concurrent writes cannot slip past the limit together; a refused write (429) takes its mark
back, so hammering does not push the window's end further away. Failed logins are counted in
the same kind of window (`peerview.auth.login_throttle`).

Counters live in Redis when it is configured, so every server process shares them; if
Redis stops answering, counting falls back to this process's memory, never to nothing.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import OrderedDict
from datetime import timedelta
from typing import Protocol

from peerview.clock import Clock

logger = logging.getLogger(__name__)


class FailureStore(Protocol):
    async def reserve(
        self, key: str, member: str, *, now: float, window: float
    ) -> tuple[int, float]:
        """Count `member` as a failure of `key` at `now`, atomically with counting.

        Returns the failures within the window, this one included, and the oldest's time.
        """
        ...

    async def release(self, key: str, member: str) -> None:
        """Take back one failure counted by `reserve`."""
        ...

    async def clear(self, key: str) -> None: ...

    async def restore(self, key: str, members: dict[str, float], *, window: float) -> None:
        """Count again `members` (member: time) that were counted elsewhere meanwhile."""
        ...


class MemoryFailureStore:
    """One process's counters; a sweep now and then drops keys nobody touches any more."""

    def __init__(self) -> None:
        self._events: dict[str, OrderedDict[str, float]] = {}
        self._last_sweep = -math.inf

    def _trim(self, events: OrderedDict[str, float], now: float, window: float) -> None:
        # Members are added in time order, so the stale ones are at the front.
        while events:
            member, at = next(iter(events.items()))
            if at > now - window:
                break
            del events[member]

    def _sweep(self, now: float, window: float) -> None:
        if now - self._last_sweep < window:
            return
        self._last_sweep = now
        for key in list(self._events):
            self._trim(self._events[key], now, window)
            if not self._events[key]:
                del self._events[key]

    async def reserve(
        self, key: str, member: str, *, now: float, window: float
    ) -> tuple[int, float]:
        self._sweep(now, window)
        events = self._events.setdefault(key, OrderedDict())
        self._trim(events, now, window)
        events[member] = now
        return len(events), next(iter(events.values()))

    async def release(self, key: str, member: str) -> None:
        events = self._events.get(key)
        if events is not None:
            events.pop(member, None)
            if not events:
                del self._events[key]

    async def clear(self, key: str) -> None:
        self._events.pop(key, None)

    async def restore(self, key: str, members: dict[str, float], *, window: float) -> None:
        events = self._events.setdefault(key, OrderedDict())
        events.update(members)
        # Keep the time order _trim relies on.
        self._events[key] = OrderedDict(sorted(events.items(), key=lambda item: item[1]))

    def tally(self, key: str, *, now: float, window: float) -> tuple[int, float]:
        """The events of `key` within the window, and the oldest's time (`now` if none)."""
        self._sweep(now, window)
        events = self._events.get(key)
        if events is None:
            return 0, now
        self._trim(events, now, window)
        if not events:
            del self._events[key]
            return 0, now
        return len(events), next(iter(events.values()))

    def held(self, key: str, members: set[str]) -> dict[str, float]:
        """Which of `members` are still counted for `key`, with their times."""
        events = self._events.get(key)
        if events is None:
            return {}
        return {member: events[member] for member in members if member in events}

    def keys(self) -> set[str]:
        """The keys with failures still held (for tests and diagnostics)."""
        return set(self._events)


class RedisFailureStore:
    """A sorted set per key, scored by time; entries older than the window are trimmed."""

    def __init__(self, redis: object, prefix: str = "peerview:login-failures:") -> None:
        from redis.asyncio import Redis

        assert isinstance(redis, Redis)
        self._redis: Redis = redis
        self._prefix = prefix

    async def reserve(
        self, key: str, member: str, *, now: float, window: float
    ) -> tuple[int, float]:
        name = self._prefix + key
        # MULTI/EXEC: no other client's command runs between the add and the count.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, "-inf", now - window)
            pipe.zadd(name, {member: now})
            pipe.zcard(name)
            pipe.zrange(name, 0, 0, withscores=True)
            pipe.expire(name, math.ceil(window) + 1)
            _, _, count, oldest, _ = await pipe.execute()
        return int(count), (float(oldest[0][1]) if oldest else now)

    async def release(self, key: str, member: str) -> None:
        await self._redis.zrem(self._prefix + key, member)

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def restore(self, key: str, members: dict[str, float], *, window: float) -> None:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(name, members)
            pipe.expire(name, math.ceil(window) + 1)
            await pipe.execute()


class WindowCounter:
    """Events per key over a sliding window, in a shared store and in this process's memory.

    Every event is counted in memory as well, so that if the shared store stops answering
    the limits still hold, per process; what was counted only in memory meanwhile is written
    to the store once it answers again (a Redis that restarted empty forgets nothing this
    process saw while it was away).
    """

    def __init__(
        self, *, window: float, memory: MemoryFailureStore, store: FailureStore | None
    ) -> None:
        self.window = window
        self._memory = memory
        self._store: FailureStore = store or memory
        # key -> members counted in memory only, while the store failed
        self._unsynced: dict[str, set[str]] = {}

    @property
    def shared(self) -> bool:
        return self._store is not self._memory

    async def reserve(self, key: str, member: str, now: float) -> tuple[int, float]:
        local = await self._memory.reserve(key, member, now=now, window=self.window)
        if not self.shared:
            return local
        try:
            if self._unsynced:
                await self._write_back()
            return await self._store.reserve(key, member, now=now, window=self.window)
        except Exception as exc:
            logger.warning("throttle store unavailable (%r); counting in memory", exc)
            self._unsynced.setdefault(key, set()).add(member)
            return local

    async def _write_back(self) -> None:
        for key in list(self._unsynced):
            held = self._memory.held(key, self._unsynced[key])
            if held:
                await self._store.restore(key, held, window=self.window)
            del self._unsynced[key]

    async def release(self, key: str, member: str) -> None:
        self._unsynced.get(key, set()).discard(member)
        await self._memory.release(key, member)
        if self.shared:
            try:
                await self._store.release(key, member)
            except Exception:
                logger.warning("throttle store unavailable", exc_info=True)

    async def clear(self, key: str) -> None:
        self._unsynced.pop(key, None)
        await self._memory.clear(key)
        if self.shared:
            try:
                await self._store.clear(key)
            except Exception:
                logger.warning("throttle store unavailable", exc_info=True)


WRITE_WINDOW = timedelta(minutes=1)


class WriteRateLimit:
    """At most `per_minute` writes per user in any sliding minute, `admin_per_minute` for an
    admin; a limit of 0 turns it off for those users.

    `check` counts the write and judges it in one step, so concurrent writes of one user
    cannot slip past the limit together. One window per user whatever their role, so a role
    change keeps what was counted. Nothing here reads the database: the caller says whether
    the user is an admin (the role it read for the request).
    """

    def __init__(
        self,
        *,
        clock: Clock,
        per_minute: int,
        admin_per_minute: int,
        store: FailureStore | None = None,
        window: timedelta = WRITE_WINDOW,
    ) -> None:
        self._clock = clock
        self._limit = per_minute
        self._admin_limit = admin_per_minute
        self._memory = MemoryFailureStore()
        self._counter = WindowCounter(
            window=window.total_seconds(), memory=self._memory, store=store
        )

    async def check(self, user_id: str, *, admin: bool) -> int | None:
        """Count one write of `user_id`: None when allowed, else the seconds to wait.

        A refused write is not counted.
        """
        limit = self._admin_limit if admin else self._limit
        if limit <= 0:
            return None
        key = f"user:{user_id}"
        member = uuid.uuid4().hex
        now = self._clock.now().timestamp()
        count, oldest = await self._counter.reserve(key, member, now)
        if count <= limit:
            return None
        await self._counter.release(key, member)
        return max(1, math.ceil(oldest + self._counter.window - now))
