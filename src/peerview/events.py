"""Domain events: what changed, announced to the features that react to it.

A service calls `events.publish(db, event)` inside its transaction (the sweeper publishes a
batch's events in one call). Each subscriber's `in_transaction` part runs at once, on the
same connection, with every event of the call (stored notifications, so they commit or roll
back with the change, and a batch of them costs a statement or two, not some per event); its
`after_commit` part runs for each event once the transaction has committed (realtime pushes,
e-mail), and never after a rollback.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from peerview.db import Connection

# A lifecycle move (`lifecycle.TRANSITIONS`), or "questions": its interviewer added or
# removed session questions (docs/api.md §5.6), which moves nothing of the lifecycle.
SessionEventName = Literal["started", "extended", "ended", "cancelled", "questions"]


@dataclass(frozen=True, slots=True)
class SessionChanged:
    """A session's lifecycle moved (REST call or sweeper), or its question list changed."""

    event: SessionEventName
    session_id: str
    interviewer_id: str | None  # None for a practice session
    interviewee_id: str
    end_reason: str | None
    actor_id: str | None  # None when the sweeper made the change
    at: datetime
    created_at: datetime  # the session's: analytics count it by the day it was created
    practice: bool = False

    @property
    def participants(self) -> tuple[str, ...]:
        if self.interviewer_id is None:
            return (self.interviewee_id,)
        return (self.interviewer_id, self.interviewee_id)


@dataclass(frozen=True, slots=True)
class PracticeStarted:
    """An interviewee started a practice session with the AI interviewer: LIVE at once."""

    session_id: str
    interviewee_id: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RequestCreated:
    request_id: str
    interviewee_id: str
    at: datetime  # the request's created_at


@dataclass(frozen=True, slots=True)
class RequestAccepted:
    """A request became ACCEPTED and its session (created `at`) SCHEDULED."""

    request_id: str
    session_id: str
    interviewee_id: str
    interviewer_id: str
    scheduled_at: datetime
    at: datetime
    request_created_at: datetime
    # accepted_at - created_at of the request in microseconds, as stored on it.
    accept_wait_us: int


@dataclass(frozen=True, slots=True)
class RequestCancelled:
    request_id: str
    interviewee_id: str
    at: datetime
    created_at: datetime  # the request's


@dataclass(frozen=True, slots=True)
class RequestExpired:
    request_id: str
    interviewee_id: str
    at: datetime
    created_at: datetime  # the request's


@dataclass(frozen=True, slots=True)
class FeedbackSubmitted:
    feedback_id: str
    session_id: str
    author_id: str
    subject_id: str
    at: datetime
    # What analytics count it by: its session's creation and category, its overall rating.
    session_created_at: datetime
    category: str
    overall: int


@dataclass(frozen=True, slots=True)
class AccessChanged:
    """What a user's tokens may do changed: one token revoked (`jti`, a logout), every token
    issued before `tokens_valid_after` (a password change), or the account itself (an admin
    deactivated it, `deactivated`; or changed its role or reactivated it, which ends no token).

    The realtime server ends the sockets a change ends (docs/api.md §8.4) from these fields
    alone, in every process, without asking the database.
    """

    user_id: str
    jti: str | None
    at: datetime
    tokens_valid_after: datetime | None = None
    deactivated: bool = False


@dataclass(frozen=True, slots=True)
class CodeLanguageChanged:
    """A session's interviewer set its code pad's language (docs/api.md §5.7)."""

    session_id: str
    interviewer_id: str | None  # None for a practice session
    interviewee_id: str
    language: str
    at: datetime


Event = (
    SessionChanged
    | PracticeStarted
    | CodeLanguageChanged
    | RequestCreated
    | RequestAccepted
    | RequestCancelled
    | RequestExpired
    | FeedbackSubmitted
    | AccessChanged
)
InTransaction = Callable[[Connection, Sequence[Any]], Awaitable[None]]
AfterCommit = Callable[[Any], Awaitable[None]]


@dataclass
class EventBus:
    _in_transaction: list[InTransaction] = field(default_factory=list)
    _after_commit: list[AfterCommit] = field(default_factory=list)

    def subscribe(
        self,
        *,
        in_transaction: InTransaction | None = None,
        after_commit: AfterCommit | None = None,
    ) -> None:
        if in_transaction is not None:
            self._in_transaction.append(in_transaction)
        if after_commit is not None:
            self._after_commit.append(after_commit)

    async def publish(self, db: Connection, *events: Event) -> None:
        if not events:
            return
        for handler in self._in_transaction:
            await handler(db, events)
        for event in events:
            for late in self._after_commit:
                db.after_commit(_bind(late, event))


def _bind(handler: AfterCommit, event: Event) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        await handler(event)

    return run
