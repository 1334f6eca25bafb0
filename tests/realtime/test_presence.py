"""Presence in Redis outlives no process by more than its TTL (peerview/realtime/presence.py).

Each test plays two server processes sharing one Redis: two presences with their own process
ids, a TTL and a heartbeat made short (the production ones are 45 s and 15 s), under a prefix
of the test's own. A process that "dies" stops beating without removing anything.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from redis.asyncio import Redis

from peerview.realtime import presence
from peerview.realtime.presence import FallbackPresence, RedisPresence

TTL = 0.5  # seconds
BEAT = 0.1


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
    try:
        yield client
    finally:
        await client.aclose()


@asynccontextmanager
async def process(
    redis: Redis, prefix: str, process_id: str | None = None
) -> AsyncIterator[FallbackPresence]:
    """One server process's presence; closed (it stops beating) on the way out."""
    shared = RedisPresence(redis, prefix, process_id=process_id, ttl_seconds=TTL)
    room = FallbackPresence(shared, heartbeat_seconds=BEAT)
    try:
        yield room
    finally:
        await room.close()


@pytest.fixture
async def prefix(redis: Redis) -> AsyncIterator[str]:
    value = f"peerview-test:{uuid.uuid4().hex}:presence:"
    yield value
    keys = [key async for key in redis.scan_iter(match=f"{value}*")]
    if keys:
        await redis.delete(*keys)


def test_a_dead_processs_presence_goes_within_a_minute_and_a_live_one_beats_in_time() -> None:
    assert presence.TTL_SECONDS <= 60
    # Beats late by one interval, or two, keep the entries.
    assert presence.HEARTBEAT_SECONDS * 3 <= presence.TTL_SECONDS


async def test_a_process_that_stops_beating_leaves_every_room_within_its_ttl(
    redis: Redis, prefix: str
) -> None:
    async with process(redis, prefix) as survivor:
        async with process(redis, prefix) as crashed:
            await crashed.add("s1", "sid-a", "alice")
            await crashed.add("s2", "sid-a2", "alice")
            await survivor.add("s1", "sid-b", "bob")
            assert await survivor.users("s1") == {"alice", "bob"}
        # `crashed` stopped beating and said nothing: until its TTL, it still counts…
        assert await survivor.users("s1") == {"alice", "bob"}
        await asyncio.sleep(TTL * 3)
        # …then not, in every room it was in; the survivor, beating, stays.
        assert await survivor.users("s1") == {"bob"}
        assert await survivor.users("s2") == set()
        # The reader deleted what the dead process left.
        assert await redis.hgetall(f"{prefix}s1") == {b"sid-b": b"bob"}
        assert await redis.hgetall(f"{prefix}s2") == {}


async def test_a_process_that_beats_keeps_its_entries_past_many_ttls(
    redis: Redis, prefix: str
) -> None:
    async with process(redis, prefix) as alive, process(redis, prefix) as reader:
        await alive.add("s1", "sid-a", "alice")
        await asyncio.sleep(TTL * 4)
        assert await reader.users("s1") == {"alice"}


async def test_a_process_whose_liveness_redis_lost_writes_its_entries_again_at_its_next_beat(
    redis: Redis, prefix: str
) -> None:
    """A Redis that restarted empty, or a process stalled past its TTL: the next beat finds
    the liveness key gone and writes every entry of the process again."""
    async with process(redis, prefix) as alive, process(redis, prefix) as reader:
        await alive.add("s1", "sid-a", "alice")
        await alive.add("s2", "sid-a2", "alice")
        keys = [key async for key in redis.scan_iter(match=f"{prefix}*")]
        await redis.delete(*keys)  # everything, as a restart without persistence
        assert await reader.users("s1") == set()
        await asyncio.sleep(BEAT * 3)
        assert await reader.users("s1") == {"alice"}
        assert await reader.users("s2") == {"alice"}


async def test_a_socket_that_left_is_not_written_back_by_a_beat(redis: Redis, prefix: str) -> None:
    async with process(redis, prefix, "p1") as alive, process(redis, prefix) as reader:
        await alive.add("s1", "sid-a", "alice")
        await alive.add("s1", "sid-b", "bob")
        await redis.delete(f"{prefix}process:p1")  # its liveness lost: the next beat rewrites
        await alive.remove("s1", "sid-b")
        await asyncio.sleep(BEAT * 3)
        assert await reader.users("s1") == {"alice"}
