"""Who is in a session's room right now, across every server process.

Each joined socket is one entry (socket id → user id), so a second tab of the same user
neither duplicates them among the peers nor makes them "leave" when it closes alone.
With Redis configured the entries live there, shared by all processes; otherwise in memory.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Protocol

logger = logging.getLogger(__name__)

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

    def entries(self, session_id: str | None = None) -> Iterator[tuple[str, str, str]]:
        """Every (session id, socket id, user id) held, or those of one session."""
        rooms = self._rooms if session_id is None else {session_id: self._rooms.get(session_id, {})}
        for room_id, room in list(rooms.items()):
            for sid, user_id in list(room.items()):
                yield room_id, sid, user_id


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


class FallbackPresence:
    """Redis presence that carries on in memory while Redis does not answer.

    This process's own sockets are also kept in memory. While Redis fails, `users` answers
    from them: the peers connected to this process, which is all a single process has, so
    joining and relaying go on. The first call that reaches Redis again writes back what
    Redis missed meanwhile (this process's entries, and the removals it could not make).
    A Redis that restarted empty while this process made no call is repaired one session
    at a time: a join writes every socket of this process in that session again.
    """

    def __init__(self, shared: Presence) -> None:
        self._shared = shared
        self._local = MemoryPresence()
        self._missed_removals: set[tuple[str, str]] = set()
        self._in_sync = True

    async def add(self, session_id: str, sid: str, user_id: str) -> None:
        await self._local.add(session_id, sid, user_id)
        self._missed_removals.discard((session_id, sid))
        if await self._resync():
            try:
                for _, local_sid, local_user in self._local.entries(session_id):
                    await self._shared.add(session_id, local_sid, local_user)
            except Exception:
                self._lost()

    async def remove(self, session_id: str, sid: str) -> None:
        await self._local.remove(session_id, sid)
        if await self._resync():
            try:
                await self._shared.remove(session_id, sid)
                return
            except Exception:
                self._lost()
        self._missed_removals.add((session_id, sid))

    async def users(self, session_id: str) -> set[str]:
        local = await self._local.users(session_id)
        if await self._resync():
            try:
                return await self._shared.users(session_id) | local
            except Exception:
                self._lost()
        return local

    def _lost(self) -> None:
        if self._in_sync:
            logger.warning("presence store unavailable; using this process's sockets only")
        self._in_sync = False

    async def _resync(self) -> bool:
        """Whether Redis is usable, after writing back what it missed if it was not."""
        if self._in_sync:
            return True
        try:
            for session_id, sid, user_id in self._local.entries():
                await self._shared.add(session_id, sid, user_id)
            for session_id, sid in list(self._missed_removals):
                await self._shared.remove(session_id, sid)
                self._missed_removals.discard((session_id, sid))
        except Exception:
            return False
        self._in_sync = True
        logger.info("presence store available again")
        return True
