"""What relaying a signal needs to know, kept in memory: each room's session, each token's standing.

A `signal` is relayed only while its session is SCHEDULED or LIVE and its sender's token is
still good (not revoked, account active, not cut off by a password change). Reading both from
the database at every message cost two statements per signal; this cache keeps, per session,
its participants and the times `lifecycle.session_at` reads, and per token whether it is good.
The relay still evaluates `session_at` on the cached times with the injected clock at every
message, so a session that time alone has ended (LIVE past its hard end, SCHEDULED past the
no-show deadline) relays nothing more without any event telling the cache.

What the cache holds is dropped when it changes:

- a session's entry on `SessionChanged` (after commit: a REST call or the sweeper), a user's
  tokens on `AccessChanged` (a logout, a password change, an admin's change to the account);
  in the process that made the change at once, and in every other process through Redis
  (`peerview.realtime.bus`, which waits for each listening process to acknowledge before the
  change's HTTP answer is sent);
- an entry is never stored from a read that an invalidation of the same key overtook: a load
  takes a `mark()` before it reads and `put_*` refuses it if that key (or everything) was
  invalidated since, so a read that saw the row before a commit cannot outlive the commit's
  invalidation;
- an entry is trusted for at most `TTL_SECONDS` (spread a little, so rooms joined together are
  not reloaded together): a bound on the harm of any change that escaped the events.

When Redis is configured, entries are trusted only while this process hears the other processes'
invalidations: from the moment its subscription is confirmed until it fails. A pub/sub message
published while a subscriber is disconnected is lost, never replayed, so the cache does not
try to catch up: while the subscription is down it is bypassed (every signal reads the database,
as without a cache; nothing is stored), and when the subscription is confirmed again it starts
empty. Correctness never depends on a message that may have been lost; only speed does, and
only while Redis is away.
"""

from __future__ import annotations

import random
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from peerview.interview_sessions.lifecycle import SessionTimes

V = TypeVar("V")

# The longest an entry is trusted without an event, and the spread around it.
TTL_SECONDS = 300.0
TTL_SPREAD = 0.2
# Entries of each kind kept at most (the least recently stored go first).
MAX_ENTRIES = 20_000
# Invalidations remembered to judge a load in flight against; a load that started before the
# oldest of them is not stored.
RECENT_INVALIDATIONS = 4096

EVERYTHING = ""


@dataclass(frozen=True, slots=True)
class Room:
    """A session as the relay reads it: who takes part, and the times of its lifecycle."""

    interviewer_id: str | None  # None for a practice session
    interviewee_id: str
    times: SessionTimes

    def has(self, user_id: str) -> bool:
        return user_id in (self.interviewer_id, self.interviewee_id)


@dataclass(slots=True)
class _Entry(Generic[V]):
    value: V
    expires_at: float  # on the monotonic timer


def session_key(session_id: str) -> str:
    return f"session:{session_id}"


def user_key(user_id: str) -> str:
    return f"user:{user_id}"


class RelayCache:
    """Rooms and token standings, with the generation bookkeeping that keeps loads honest.

    `timer` is monotonic (how long an entry has been kept), never Peerview's clock: a frozen
    or simulated business clock must not keep an entry forever.
    """

    def __init__(
        self,
        *,
        timer: Callable[[], float],
        trusted: bool = True,
        ttl_seconds: float = TTL_SECONDS,
        max_entries: int = MAX_ENTRIES,
    ) -> None:
        self._timer = timer
        self._ttl = ttl_seconds
        self._max = max_entries
        self._rooms: OrderedDict[str, _Entry[Room]] = OrderedDict()
        # (user id, token id) → whether that token may still act
        self._tokens: OrderedDict[tuple[str, str], _Entry[bool]] = OrderedDict()
        self._tokens_of: dict[str, set[str]] = {}
        self._generation = 0
        self._recent: deque[tuple[int, str]] = deque(maxlen=RECENT_INVALIDATIONS)
        self._trusted = trusted

    # -- reading ---------------------------------------------------------------------------

    @property
    def trusted(self) -> bool:
        """Whether entries may be used: every invalidation can reach this process now."""
        return self._trusted

    def room(self, session_id: str) -> Room | None:
        if not self._trusted:
            return None
        entry = self._rooms.get(session_id)
        if entry is None:
            return None
        if entry.expires_at <= self._timer():
            del self._rooms[session_id]
            return None
        return entry.value

    def token_valid(self, user_id: str, jti: str) -> bool | None:
        """Whether the token may act, or None when it is not known here."""
        if not self._trusted:
            return None
        entry = self._tokens.get((user_id, jti))
        if entry is None:
            return None
        if entry.expires_at <= self._timer():
            self._drop_token(user_id, jti)
            return None
        return entry.value

    def __len__(self) -> int:
        return len(self._rooms) + len(self._tokens)

    # -- filling ---------------------------------------------------------------------------

    def mark(self) -> int:
        """Taken before reading what a `put_*` will store."""
        return self._generation

    def put_room(self, session_id: str, room: Room, *, since: int) -> bool:
        """Keep `room` (read after `since` was marked) unless it may already be stale."""
        if not self._storable(session_key(session_id), since):
            return False
        self._rooms[session_id] = _Entry(room, self._expiry())
        self._rooms.move_to_end(session_id)
        while len(self._rooms) > self._max:
            self._rooms.popitem(last=False)
        return True

    def put_token(self, user_id: str, jti: str, valid: bool, *, since: int) -> bool:
        if not self._storable(user_key(user_id), since):
            return False
        key = (user_id, jti)
        self._tokens[key] = _Entry(valid, self._expiry())
        self._tokens.move_to_end(key)
        self._tokens_of.setdefault(user_id, set()).add(jti)
        while len(self._tokens) > self._max:
            (old_user, old_jti), _ = self._tokens.popitem(last=False)
            self._forget_jti(old_user, old_jti)
        return True

    # -- invalidation ----------------------------------------------------------------------

    def session_changed(self, session_id: str) -> None:
        self._rooms.pop(session_id, None)
        self._invalidated(session_key(session_id))

    def access_changed(self, user_id: str) -> None:
        """Every token of the user: a logout names one, but the others' standing may have
        moved with it (an admin's change); reloading them costs a statement each."""
        for jti in self._tokens_of.pop(user_id, set()):
            self._tokens.pop((user_id, jti), None)
        self._invalidated(user_key(user_id))

    def clear(self) -> None:
        self._rooms.clear()
        self._tokens.clear()
        self._tokens_of.clear()
        self._invalidated(EVERYTHING)

    def trust(self, trusted: bool) -> None:
        """Follow the subscription: bypassed while it is down, empty whenever it is confirmed
        (again); either way a load in flight stores nothing."""
        self.clear()
        self._trusted = trusted

    # -- internals -------------------------------------------------------------------------

    def _invalidated(self, key: str) -> None:
        self._generation += 1
        self._recent.append((self._generation, key))

    def _storable(self, key: str, since: int) -> bool:
        if not self._trusted:
            return False
        if since == self._generation:
            return True
        if not self._recent or self._recent[0][0] > since + 1:
            return False  # what happened since is no longer known
        for generation, changed in reversed(self._recent):
            if generation <= since:
                break
            if changed in (key, EVERYTHING):
                return False
        return True

    def _expiry(self) -> float:
        spread = 1 + random.uniform(-TTL_SPREAD, TTL_SPREAD)  # noqa: S311 (not a secret)
        return self._timer() + self._ttl * spread

    def _drop_token(self, user_id: str, jti: str) -> None:
        self._tokens.pop((user_id, jti), None)
        self._forget_jti(user_id, jti)

    def _forget_jti(self, user_id: str, jti: str) -> None:
        jtis = self._tokens_of.get(user_id)
        if jtis is not None:
            jtis.discard(jti)
            if not jtis:
                del self._tokens_of[user_id]
