"""Keeps the analytics rollups in step with every change, in the transaction that makes it.

`on_events` is an `in_transaction` subscriber of the event bus: each event that changes a count
adds its delta to the transaction's `Deltas` (kept in `db.info`), and the first one registers a
`before_commit` hook that writes them all at the end. A request's transaction, or a sweeper
batch of 500 transitions, thus costs one upsert per rollup table it touches, whatever the
number of rows, and the counts commit or roll back with the change itself.

What is counted is what can no longer change: a request once it is ACCEPTED, CANCELLED or
EXPIRED; a session once it is COMPLETED or CANCELLED; every feedback row; every (week, person)
of activity. Rows are written in key order, so concurrent writers lock them in one order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from peerview.analytics import rollup_repository as repository
from peerview.analytics.buckets import bucket_of
from peerview.analytics.sql import monday_of, utc_day
from peerview.db import Connection
from peerview.events import (
    FeedbackSubmitted,
    PracticeStarted,
    RequestAccepted,
    RequestCancelled,
    RequestCreated,
    RequestExpired,
    SessionChanged,
)
from peerview.models.enums import EndReason, RequestStatus

_KEY = "analytics.deltas"


def outcome_of(event: SessionChanged) -> str | None:
    """The outcome a session is counted under once `event` has happened; None if still open
    (started, extended, or its questions changed: nothing is counted)."""
    if event.event == "ended":
        return "auto_timeout" if event.end_reason == EndReason.AUTO_TIMEOUT else "completed"
    if event.event == "cancelled":
        return "no_show" if event.end_reason == EndReason.NO_SHOW else "cancelled"
    return None


@dataclass
class Deltas:
    """What one transaction adds to the rollups."""

    requests: Counter[tuple[date, str]] = field(default_factory=Counter)
    waits: Counter[tuple[date, int]] = field(default_factory=Counter)
    sessions: Counter[tuple[date, str]] = field(default_factory=Counter)
    ratings: Counter[tuple[date, str]] = field(default_factory=Counter)
    overall: Counter[tuple[date, str]] = field(default_factory=Counter)
    # (UTC day recorded, Monday of the week, person)
    active: set[tuple[date, date, str]] = field(default_factory=set)

    def add(self, event: Any) -> bool:
        """Count `event`; whether it changed anything."""
        if isinstance(event, RequestCreated):
            self.active.add((utc_day(event.at), monday_of(event.at), event.interviewee_id))
        elif isinstance(event, RequestAccepted):
            day = utc_day(event.request_created_at)
            self.requests[day, RequestStatus.ACCEPTED.value] += 1
            self.waits[day, bucket_of(event.accept_wait_us)] += 1
            # The session, created now, is scheduled in this week.
            today, week = utc_day(event.at), monday_of(event.scheduled_at)
            self.active.add((today, week, event.interviewer_id))
            self.active.add((today, week, event.interviewee_id))
        elif isinstance(event, PracticeStarted):
            # A practice session is scheduled the moment it is created: its interviewee took
            # part in a session that week.
            self.active.add((utc_day(event.at), monday_of(event.at), event.interviewee_id))
        elif isinstance(event, RequestCancelled):
            self.requests[utc_day(event.created_at), RequestStatus.CANCELLED.value] += 1
        elif isinstance(event, RequestExpired):
            self.requests[utc_day(event.created_at), RequestStatus.EXPIRED.value] += 1
        elif isinstance(event, SessionChanged):
            outcome = outcome_of(event)
            if outcome is None:
                return False
            self.sessions[utc_day(event.created_at), outcome] += 1
        elif isinstance(event, FeedbackSubmitted):
            key = (utc_day(event.session_created_at), event.category)
            self.ratings[key] += 1
            self.overall[key] += event.overall
        else:
            return False
        return True


async def on_events(db: Connection, events: Sequence[Any]) -> None:
    deltas: Deltas | None = db.info.get(_KEY)
    fresh = deltas is None
    if deltas is None:
        deltas = Deltas()
    changed = [deltas.add(event) for event in events]
    if not any(changed):
        return
    if fresh:
        db.info[_KEY] = deltas

        async def flush() -> None:
            await write(db, deltas)

        db.before_commit(flush)


async def write(db: Connection, deltas: Deltas) -> None:
    """Add `deltas` to the rollups: one statement per table touched (on PostgreSQL one in all),
    keys in order."""
    all_time: Counter[int] = Counter()
    for (_, bucket), n in deltas.waits.items():
        all_time[bucket] += n
    await repository.add(
        db,
        {
            "requests": [
                {"day": day, "status": status, "requests": n}
                for (day, status), n in sorted(deltas.requests.items())
            ],
            "wait_days": [
                {"day": day, "bucket": bucket, "requests": n}
                for (day, bucket), n in sorted(deltas.waits.items())
            ],
            "waits": [{"bucket": bucket, "requests": n} for bucket, n in sorted(all_time.items())],
            "sessions": [
                {"day": day, "outcome": outcome, "sessions": n}
                for (day, outcome), n in sorted(deltas.sessions.items())
            ],
            "ratings": [
                {
                    "day": day,
                    "category": category,
                    "feedback": n,
                    "overall_sum": deltas.overall[day, category],
                }
                for (day, category), n in sorted(deltas.ratings.items())
            ],
            "activity": [
                {"day": day, "week_start": week, "user_id": user_id}
                for day, week, user_id in sorted(deltas.active)
            ],
            "week_users": [
                {"week_start": week, "user_id": user_id}
                for week, user_id in sorted({(week, user) for _, week, user in deltas.active})
            ],
        },
    )
