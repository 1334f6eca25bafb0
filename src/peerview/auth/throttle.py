"""Failed-login throttling over a sliding window, per account and per client address.

Counters live in Redis when it is configured, so every server process shares them; if
Redis stops answering, counting falls back to this process's memory, never to nothing.
"""

from __future__ import annotations

import logging
import math
import uuid
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from peerview.clock import Clock

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Limit:
    key: str
    max_failures: int


class FailureStore(Protocol):
    async def count(self, key: str, *, now: float, window: float) -> tuple[int, float | None]:
        """Failures of `key` within the window, and the time of the oldest of them."""
        ...

    async def add(self, key: str, *, now: float, window: float) -> None: ...

    async def clear(self, key: str) -> None: ...


class MemoryFailureStore:
    def __init__(self) -> None:
        self._events: dict[str, deque[float]] = {}

    def _trim(self, key: str, now: float, window: float) -> deque[float] | None:
        events = self._events.get(key)
        if events is None:
            return None
        while events and events[0] <= now - window:
            events.popleft()
        if not events:
            del self._events[key]
            return None
        return events

    async def count(self, key: str, *, now: float, window: float) -> tuple[int, float | None]:
        events = self._trim(key, now, window)
        return (len(events), events[0]) if events else (0, None)

    async def add(self, key: str, *, now: float, window: float) -> None:
        self._trim(key, now, window)
        self._events.setdefault(key, deque()).append(now)

    async def clear(self, key: str) -> None:
        self._events.pop(key, None)


class RedisFailureStore:
    """A sorted set per key, scored by time; entries older than the window are trimmed."""

    def __init__(self, redis: object, prefix: str = "peerview:login-failures:") -> None:
        from redis.asyncio import Redis

        assert isinstance(redis, Redis)
        self._redis: Redis = redis
        self._prefix = prefix

    async def count(self, key: str, *, now: float, window: float) -> tuple[int, float | None]:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(name, "-inf", now - window)
            pipe.zcard(name)
            pipe.zrange(name, 0, 0, withscores=True)
            _, count, oldest = await pipe.execute()
        return int(count), (float(oldest[0][1]) if oldest else None)

    async def add(self, key: str, *, now: float, window: float) -> None:
        name = self._prefix + key
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zadd(name, {uuid.uuid4().hex: now})
            pipe.expire(name, math.ceil(window) + 1)
            await pipe.execute()

    async def clear(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)


class LoginThrottle:
    def __init__(
        self,
        *,
        clock: Clock,
        window: timedelta,
        max_per_account: int,
        max_per_address: int,
        store: FailureStore | None = None,
    ) -> None:
        self._clock = clock
        self._window = window.total_seconds()
        self._max_per_account = max_per_account
        self._max_per_address = max_per_address
        self._fallback = MemoryFailureStore()
        self._store: FailureStore = store or self._fallback

    def _limits(self, email: str, address: str) -> list[Limit]:
        return [
            Limit(f"account:{email}", self._max_per_account),
            Limit(f"address:{address}", self._max_per_address),
        ]

    async def retry_after(self, *, email: str, address: str) -> int | None:
        """Seconds until another attempt is allowed, or None if it is allowed now."""
        now = self._clock.now().timestamp()
        wait: float | None = None
        for limit in self._limits(email, address):
            try:
                count, oldest = await self._store.count(limit.key, now=now, window=self._window)
            except Exception:
                logger.warning("throttle store unavailable; counting in memory", exc_info=True)
                count, oldest = await self._fallback.count(limit.key, now=now, window=self._window)
            if count >= limit.max_failures and oldest is not None:
                remaining = oldest + self._window - now
                wait = remaining if wait is None else max(wait, remaining)
        return None if wait is None else max(1, math.ceil(wait))

    async def record_failure(self, *, email: str, address: str) -> None:
        now = self._clock.now().timestamp()
        for limit in self._limits(email, address):
            try:
                await self._store.add(limit.key, now=now, window=self._window)
            except Exception:
                logger.warning("throttle store unavailable; counting in memory", exc_info=True)
            # Counted in memory as well: if the shared store goes away, the limit still holds.
            if self._store is not self._fallback:
                await self._fallback.add(limit.key, now=now, window=self._window)

    async def record_success(self, *, email: str) -> None:
        key = f"account:{email}"
        await self._fallback.clear(key)
        if self._store is not self._fallback:
            try:
                await self._store.clear(key)
            except Exception:
                logger.warning("throttle store unavailable", exc_info=True)
