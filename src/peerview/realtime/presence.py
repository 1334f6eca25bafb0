"""Who is in a session's room right now, across every server process.

Each joined socket is one entry (socket id → user id), so a second tab of the same user
neither duplicates them among the peers nor makes them "leave" when it closes alone.
With Redis configured the entries live there, shared by all processes; otherwise in memory.
"""

from __future__ import annotations

from typing import Protocol

PRESENCE_TTL_SECONDS = 24 * 3600


class Presence(Protocol):
    async def add(self, session_id: str, sid: str, user_id: str) -> None: ...

    async def remove(self, session_id: str, sid: str) -> None: ...

    async def users(self, session_id: str) -> set[str]: ...


class MemoryPresence:
    def __init__(self) -> None:
        self._rooms: dict[str, dict[str, str]] = {}

    async def add(self, session_id: str, sid: str, user_id: str) -> None:
        self._rooms.setdefault(session_id, {})[sid] = user_id

    async def remove(self, session_id: str, sid: str) -> None:
        room = self._rooms.get(session_id)
        if room is not None:
            room.pop(sid, None)
            if not room:
                del self._rooms[session_id]

    async def users(self, session_id: str) -> set[str]:
        return set(self._rooms.get(session_id, {}).values())


class RedisPresence:
    """One hash per session. Its expiry only bounds what a crashed process leaves behind."""

    def __init__(self, redis: object, prefix: str = "peerview:presence:") -> None:
        from redis.asyncio import Redis

        assert isinstance(redis, Redis)
        self._redis: Redis = redis
        self._prefix = prefix

    async def add(self, session_id: str, sid: str, user_id: str) -> None:
        key = self._prefix + session_id
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, sid, user_id)
            pipe.expire(key, PRESENCE_TTL_SECONDS)
            await pipe.execute()

    async def remove(self, session_id: str, sid: str) -> None:
        await self._redis.hdel(self._prefix + session_id, sid)

    async def users(self, session_id: str) -> set[str]:
        values = await self._redis.hvals(self._prefix + session_id)
        return {v.decode() if isinstance(v, bytes) else str(v) for v in values}
