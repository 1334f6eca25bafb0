"""When a socket's access ends: which sockets an account change ends, and each token's expiry.

A socket lives no longer than the token it was opened with (docs/api.md §8.4). A logout ends
the sockets of that token, a password change those of the tokens issued before it, a
deactivation every socket of the account; each process judges its own sockets from the
committed `AccessChanged` alone (heard from the others through `peerview.realtime.bus`), so
no statement is run and the database being down changes nothing. A token's expiry is
watched here, on Peerview's clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Literal

from peerview.clock import Clock
from peerview.events import AccessChanged
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
