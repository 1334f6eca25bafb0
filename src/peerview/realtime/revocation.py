"""When a socket's access ends: which sockets an account change ends, each token's expiry, and
ending a socket.

A socket lives no longer than the token it was opened with (docs/api.md §8.4). A logout ends
the sockets of that token, a password change those of the tokens issued before it, a
deactivation every socket of the account; each process judges its own sockets from the
committed `AccessChanged` alone (heard from the others through `peerview.realtime.bus`), so
no statement is run and the database being down changes nothing. A token's expiry is
watched here, on Peerview's clock. Where an announcement may have been lost, the sockets'
tokens are checked with the database instead (`Revoker.recheck`).

Ending a socket: it is sent EVENT with the reason, then Socket.IO's disconnect, then its
transport is closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import heapq
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from datetime import datetime
from typing import Any, Literal, Protocol

from peerview.clock import Clock
from peerview.context import authenticate
from peerview.db import Database
from peerview.events import AccessChanged
from peerview.realtime.engine import Server
from peerview.tokens import TokenClaims

logger = logging.getLogger(__name__)

# The event a socket gets just before the server disconnects it for its access.
EVENT = "access_revoked"

Reason = Literal["logout", "password_changed", "deactivated", "expired", "revoked"]

# How often the expiry watch looks at the clock at most: a token's socket ends within this
# long after its `exp`, even if the injected clock jumped meanwhile.
EXPIRY_CHECK_SECONDS = 1.0


def ended_by(change: AccessChanged, token: TokenClaims) -> Reason | None:
    """Why `change` ends a socket of the same user opened with `token`, or None if it does not.

    The rules of `peerview.context.authenticate`, applied to what changed.
    """
    if change.deactivated:
        return "deactivated"
    if change.jti is not None and change.jti == token.jti:
        return "logout"
    if change.tokens_valid_after is not None and token.issued_at < change.tokens_valid_after:
        return "password_changed"
    return None


def notice(reason: Reason) -> dict[str, str]:
    """The payload of EVENT: the code every refusal of that token carries, and why."""
    return {"code": "INVALID_TOKEN", "reason": reason}


class ExpiryWatch:
    """Calls `on_expired(sid)` once the token of a watched socket has expired.

    One task for the process, running while some socket is watched: it sleeps until the
    earliest `exp`, at most `check_seconds` at a time, so a clock that jumps (a test's fake
    clock, or the system's) is noticed within that long.
    """

    def __init__(
        self,
        *,
        clock: Clock,
        on_expired: Callable[[str], Awaitable[None]],
        check_seconds: float = EXPIRY_CHECK_SECONDS,
    ) -> None:
        self.clock = clock
        self.check_seconds = check_seconds
        self._on_expired = on_expired
        self._due: dict[str, datetime] = {}
        self._heap: list[tuple[datetime, str]] = []
        self._task: asyncio.Task[None] | None = None

    def __len__(self) -> int:
        return len(self._due)

    def watch(self, sid: str, expires_at: datetime) -> None:
        """Watch `sid` (called on the running loop)."""
        self._due[sid] = expires_at
        heapq.heappush(self._heap, (expires_at, sid))
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(
                self._run(), name="peerview-realtime-expiry"
            )

    def forget(self, sid: str) -> None:
        """`sid` is gone: nothing more to do for it (its heap entry is skipped when due)."""
        self._due.pop(sid, None)

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._due.clear()
        self._heap.clear()

    async def _run(self) -> None:
        while self._due:
            now = self.clock.now()
            while self._heap and self._heap[0][0] <= now:
                expires_at, sid = heapq.heappop(self._heap)
                if self._due.get(sid) != expires_at:
                    continue  # gone, or watched again with another token
                del self._due[sid]
                try:
                    await self._on_expired(sid)
                except Exception:
                    logger.exception("ending a socket whose token expired failed")
            if not self._due:
                self._heap.clear()
                return
            until = (self._heap[0][0] - now).total_seconds()
            await asyncio.sleep(min(max(until, 0.0), self.check_seconds))


class Holder(Protocol):
    """What the revoker needs to know of a socket."""

    @property
    def user_id(self) -> str: ...

    @property
    def token(self) -> TokenClaims: ...


class Revoker:
    """This process's part: ends its own sockets whose access ended, and watches their
    tokens' expiry. It reads the server's socket maps (socket id → holder, user id → socket
    ids), which the server keeps."""

    def __init__(
        self,
        *,
        sio: Server,
        database: Database,
        clock: Clock,
        sockets: Mapping[str, Holder],
        local_users: Mapping[str, set[str]],
    ) -> None:
        self.sio = sio
        self.database = database
        self.clock = clock
        self.sockets = sockets
        self.local_users = local_users
        self.expiry = ExpiryWatch(clock=clock, on_expired=self._expired)
        self._ending: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()

    async def end_sockets(self, change: AccessChanged) -> None:
        """End this process's sockets that a committed access change ends."""
        for sid in sorted(self.local_users.get(change.user_id, ())):
            holder = self.sockets.get(sid)
            if holder is None:
                continue
            reason = ended_by(change, holder.token)
            if reason is not None:
                try:
                    await self.end(sid, reason)
                except Exception:
                    logger.exception("ending a socket whose access changed failed")

    async def end(self, sid: str, reason: Reason) -> None:
        """Tell the socket why (EVENT), then disconnect it: its rooms, presence and pushes end
        with the server's disconnect handler, and its transport is closed."""
        if sid not in self.sockets or sid in self._ending:
            return
        self._ending.add(sid)
        try:
            await self.sio.emit(EVENT, notice(reason), to=sid, ignore_queue=True)
            eio_sid = self.sio.manager.eio_sid_from_sid(sid, "/")
            await self.sio.disconnect(sid, ignore_queue=True)
            if eio_sid is not None:
                # A client that ignored the disconnect keeps nothing open. Closing waits for a
                # polling client to fetch what is queued for it: nobody waits on that.
                self.spawn(self.sio.eio.disconnect(eio_sid))
        finally:
            self._ending.discard(sid)

    def refuse(self, sid: str, reason: Reason) -> dict[str, Any]:
        """The answer to an event whose socket's token no longer holds; the socket is ended
        once this answer has been handed to its transport."""
        self.sio.after_answer[sid] = functools.partial(self.end, sid, reason)
        return {"ok": False, "code": "INVALID_TOKEN"}

    async def recheck(self, sids: list[str] | None = None) -> None:
        """End every socket of this process (or those of `sids`) whose token the database no
        longer accepts."""
        chosen = list(self.sockets) if sids is None else sids
        holders = {sid: holder for sid in chosen if (holder := self.sockets.get(sid)) is not None}
        if not holders:
            return
        standing: dict[tuple[str, str], bool] = {}
        try:
            async with self.database.transaction(write=False) as db:
                for holder in holders.values():
                    key = (holder.user_id, holder.token.jti)
                    if key not in standing:
                        standing[key] = await authenticate(db, holder.token) is not None
        except Exception:
            logger.warning("rechecking the sockets' tokens failed", exc_info=True)
            return
        for sid, holder in holders.items():
            if not standing[(holder.user_id, holder.token.jti)]:
                await self.end(sid, "revoked")

    async def _expired(self, sid: str) -> None:
        holder = self.sockets.get(sid)
        if holder is not None and holder.token.expires_at <= self.clock.now():
            await self.end(sid, "expired")

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` on its own, kept until done (and cancelled by `close`)."""
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        await self.expiry.close()
        tasks = [task for task in self._tasks if not task.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
