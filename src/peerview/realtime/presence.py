"""Who is in a session's room right now, across every server process.

Each joined socket is one entry (socket id → user id), so a second tab of the same user
neither duplicates them among the peers nor makes them "leave" when it closes alone.
With Redis configured the entries live there, shared by all processes; otherwise in memory.

In Redis each entry also names the process that holds the socket, and each process keeps a
key of its own alive by a heartbeat (every HEARTBEAT_SECONDS, expiring after TTL_SECONDS).
A process that died, and so never said its sockets left, stops beating: its entries stop
counting within TTL_SECONDS, and the next reader of the session deletes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Iterator
from typing import Protocol

logger = logging.getLogger(__name__)

# A process's entries stop counting this long after its last heartbeat.
TTL_SECONDS = 45.0
# How often a running process renews its liveness: several beats fit in TTL_SECONDS, so a
# late one or two lose nothing.
HEARTBEAT_SECONDS = 15.0
# What bounds a session's keys once nobody reads or writes them (every holder crashed).
KEYS_TTL_SECONDS = 24 * 3600


class Presence(Protocol):
    async def add(self, session_id: str, sid: str, user_id: str) -> None: ...

    async def remove(self, session_id: str, sid: str) -> None: ...

    async def users(self, session_id: str) -> set[str]: ...


class SharedPresence(Presence, Protocol):
    """The store every process shares, with this process's heartbeat."""

    async def beat(self) -> bool:
        """Renew this process's liveness; False when the store had lost it (expired, or a
        restarted Redis): the process's entries must then be written again."""
        ...


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

    async def beat(self) -> bool:
        return True  # one process's memory outlives none of its entries

    def entries(self, session_id: str | None = None) -> Iterator[tuple[str, str, str]]:
        """Every (session id, socket id, user id) held, or those of one session."""
        rooms = self._rooms if session_id is None else {session_id: self._rooms.get(session_id, {})}
        for room_id, room in list(rooms.items()):
            for sid, user_id in list(room.items()):
                yield room_id, sid, user_id


class RedisPresence:
    """Per session, a hash of socket id → user id and one of socket id → process id; per
    process, a liveness key that its heartbeat renews.

    A reader counts an entry while its process's key exists (an entry that names no process,
    written before processes were named, counts as alive) and deletes the others.
    """

    def __init__(
        self,
        redis: object,
        prefix: str = "peerview:presence:",
        *,
        process_id: str | None = None,
        ttl_seconds: float = TTL_SECONDS,
    ) -> None:
        from redis.asyncio import Redis

        assert isinstance(redis, Redis)
        self._redis: Redis = redis
        self._prefix = prefix
        self.process_id = process_id or uuid.uuid4().hex
        self._ttl_ms = max(1, round(ttl_seconds * 1000))
        self._alive_key = self._process_key(self.process_id)

    def _process_key(self, process_id: str) -> str:
        return f"{self._prefix}process:{process_id}"

    async def add(self, session_id: str, sid: str, user_id: str) -> None:
        key = self._prefix + session_id
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, sid, user_id)
            pipe.hset(key + ":process", sid, self.process_id)
            pipe.expire(key, KEYS_TTL_SECONDS)
            pipe.expire(key + ":process", KEYS_TTL_SECONDS)
            pipe.set(self._alive_key, "1", px=self._ttl_ms)
            await pipe.execute()

    async def remove(self, session_id: str, sid: str) -> None:
        key = self._prefix + session_id
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(key, sid)
            pipe.hdel(key + ":process", sid)
            await pipe.execute()

    async def users(self, session_id: str) -> set[str]:
        key = self._prefix + session_id
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(key)
            pipe.hgetall(key + ":process")
            entries, owners = await pipe.execute()
        users = {_text(sid): _text(user) for sid, user in entries.items()}
        holders = {_text(sid): _text(process) for sid, process in owners.items()}
        processes = sorted(set(holders.values()))
        alive: set[str] = set()
        if processes:
            async with self._redis.pipeline(transaction=False) as pipe:
                for process in processes:
                    pipe.exists(self._process_key(process))
                found = await pipe.execute()
            alive = {p for p, exists in zip(processes, found, strict=True) if exists}
        dead = [sid for sid in users if sid in holders and holders[sid] not in alive]
        if dead:
            # Their process stopped beating: it will never say these sockets left.
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hdel(key, *dead)
                pipe.hdel(key + ":process", *dead)
                await pipe.execute()
        return {user for sid, user in users.items() if sid not in dead}

    async def beat(self) -> bool:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.exists(self._alive_key)
            pipe.set(self._alive_key, "1", px=self._ttl_ms)
            existed, _ = await pipe.execute()
        return bool(existed)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class FallbackPresence:
    """Redis presence that carries on in memory while Redis does not answer, and beats.

    This process's own sockets are also kept in memory. While Redis fails, `users` answers
    from them: the peers connected to this process, which is all a single process has, so
    joining and relaying go on. The first call that reaches Redis again writes back what
    Redis missed meanwhile (this process's entries, and the removals it could not make).

    From its first entry on, a task renews this process's liveness every `heartbeat_seconds`;
    when Redis had lost it (a Redis that restarted empty, a process stalled past the TTL),
    the beat writes every entry of this process again. Writes to Redis go one at a time, so a
    rewrite never brings back an entry removed meanwhile.
    """

    def __init__(
        self, shared: SharedPresence, *, heartbeat_seconds: float = HEARTBEAT_SECONDS
    ) -> None:
        self._shared = shared
        self._local = MemoryPresence()
        self._missed_removals: set[tuple[str, str]] = set()
        self._in_sync = True
        self.heartbeat_seconds = heartbeat_seconds
        self._writing = asyncio.Lock()
        self._heart: asyncio.Task[None] | None = None

    async def add(self, session_id: str, sid: str, user_id: str) -> None:
        self.start()
        await self._local.add(session_id, sid, user_id)
        self._missed_removals.discard((session_id, sid))
        async with self._writing:
            if await self._resync():
                try:
                    for _, local_sid, local_user in self._local.entries(session_id):
                        await self._shared.add(session_id, local_sid, local_user)
                except Exception:
                    self._lost()

    async def remove(self, session_id: str, sid: str) -> None:
        await self._local.remove(session_id, sid)
        async with self._writing:
            if await self._resync():
                try:
                    await self._shared.remove(session_id, sid)
                    return
                except Exception:
                    self._lost()
            self._missed_removals.add((session_id, sid))

    async def users(self, session_id: str) -> set[str]:
        local = await self._local.users(session_id)
        if self._in_sync:
            try:
                return await self._shared.users(session_id) | local
            except Exception:
                self._lost()
        async with self._writing:
            if await self._resync():
                try:
                    return await self._shared.users(session_id) | local
                except Exception:
                    self._lost()
        return local

    # -- heartbeat ---------------------------------------------------------------------------

    def start(self) -> None:
        """Beat, if not already (called on the running loop, at first use)."""
        if self._heart is None or self._heart.done():
            self._heart = asyncio.get_running_loop().create_task(
                self._beating(), name="peerview-presence-heartbeat"
            )

    async def close(self) -> None:
        """Stop beating, once a beat under way has finished (a write to Redis is never cut
        in the middle). Nothing is removed: the entries of sockets still open then expire as
        those of a process that died."""
        heart, self._heart = self._heart, None
        if heart is None:
            return
        async with self._writing:
            heart.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heart

    async def beat(self) -> None:
        """Renew this process's liveness; write its entries again if Redis had lost it."""
        async with self._writing:
            if not await self._resync():
                return
            try:
                if not await self._shared.beat():
                    for session_id, sid, user_id in self._local.entries():
                        await self._shared.add(session_id, sid, user_id)
            except Exception:
                self._lost()

    async def _beating(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            await self.beat()

    # -- Redis away and back -----------------------------------------------------------------

    def _lost(self) -> None:
        if self._in_sync:
            logger.warning("presence store unavailable; using this process's sockets only")
        self._in_sync = False

    async def _resync(self) -> bool:
        """Whether Redis is usable, after writing back what it missed if it was not (called
        holding the write lock)."""
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
