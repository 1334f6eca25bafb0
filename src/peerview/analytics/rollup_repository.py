"""SQL that writes the analytics rollups: the upserts of each transaction's deltas, and the
statements that recompute every rollup from the requests, sessions and feedback."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import msgspec
from sqlalchemy import (
    ColumnElement,
    Executable,
    Table,
    and_,
    case,
    delete,
    func,
    or_,
    select,
    text,
    union,
    update,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from peerview.analytics.buckets import bucket_of_seconds, seconds_of
from peerview.analytics.sql import day_of, micros_between, text_value, week_start
from peerview.db import Connection, Dialect, Query, Variants, binds_for
from peerview.models import (
    AnalyticsAcceptWait,
    AnalyticsAcceptWaitDay,
    AnalyticsActivityDay,
    AnalyticsRatingDay,
    AnalyticsRequestDay,
    AnalyticsSessionDay,
    AnalyticsWeek,
    AnalyticsWeekUser,
    Feedback,
    InterviewRequest,
    InterviewSession,
)
from peerview.models.base import table_of
from peerview.models.enums import EndReason, RequestStatus, SessionStatus

request_days = table_of(AnalyticsRequestDay)
accept_wait_days = table_of(AnalyticsAcceptWaitDay)
accept_waits = table_of(AnalyticsAcceptWait)
session_days = table_of(AnalyticsSessionDay)
rating_days = table_of(AnalyticsRatingDay)
activity_days = table_of(AnalyticsActivityDay)
week_users = table_of(AnalyticsWeekUser)
weeks = table_of(AnalyticsWeek)
ROLLUPS = (
    request_days,
    accept_wait_days,
    accept_waits,
    session_days,
    rating_days,
    activity_days,
    week_users,
    weeks,
)
requests = table_of(InterviewRequest)
sessions = table_of(InterviewSession)
feedback = table_of(Feedback)

# Requests in these statuses never change again: the rollups count them.
FINAL_REQUEST_STATUSES = (RequestStatus.ACCEPTED, RequestStatus.CANCELLED, RequestStatus.EXPIRED)
FINAL_SESSION_STATUSES = (SessionStatus.COMPLETED, SessionStatus.CANCELLED)


def one_of(column: ColumnElement[Any], values: Sequence[str]) -> ColumnElement[bool]:
    """`column IN (…)` for constants, written into the statement."""
    return or_(*(column == value for value in values))


def stored_outcome() -> ColumnElement[str]:
    """The outcome of a session stored COMPLETED or CANCELLED: what `session_days` counts."""
    return case(
        (
            and_(
                sessions.c.status == SessionStatus.COMPLETED,
                sessions.c.end_reason == EndReason.AUTO_TIMEOUT,
            ),
            text_value("auto_timeout"),
        ),
        (sessions.c.status == SessionStatus.COMPLETED, text_value("completed")),
        (
            and_(
                sessions.c.status == SessionStatus.CANCELLED,
                sessions.c.end_reason == EndReason.NO_SHOW,
            ),
            text_value("no_show"),
        ),
        else_=text_value("cancelled"),
    )


def accepted() -> ColumnElement[bool]:
    """What has a wait for acceptance (the column is set exactly then)."""
    return and_(requests.c.status == RequestStatus.ACCEPTED, requests.c.accepted_at.is_not(None))


# --- each transaction's deltas -------------------------------------------------------------


def _insert(dialect: Dialect, table: Table) -> Any:
    return (pg_insert if dialect == "postgresql" else sqlite_insert)(table)


def _adding(table: Table, keys: Sequence[str], counts: Sequence[str]) -> Query[Any]:
    """`INSERT … ON CONFLICT (keys) DO UPDATE SET count = count + excluded.count`."""

    def build(dialect: Dialect) -> Executable:
        statement = _insert(dialect, table).values(binds_for(list(table.c)))
        upsert: Executable = statement.on_conflict_do_update(
            index_elements=[table.c[k] for k in keys],
            set_={c: table.c[c] + statement.excluded[c] for c in counts},
        )
        return upsert

    return Query(build)


_ADD_REQUESTS = _adding(request_days, ["day", "status"], ["requests"])
_ADD_WAIT_DAYS = _adding(accept_wait_days, ["day", "bucket"], ["requests"])
_ADD_WAITS = _adding(accept_waits, ["bucket"], ["requests"])
_ADD_SESSIONS = _adding(session_days, ["day", "outcome"], ["sessions"])
_ADD_RATINGS = _adding(rating_days, ["day", "category"], ["feedback", "overall_sum"])
_ADD_WEEKS = _adding(weeks, ["week_start"], ["users"])


def _add_activity(dialect: Dialect) -> Executable:
    statement = _insert(dialect, activity_days).values(binds_for(list(activity_days.c)))
    ignoring: Executable = statement.on_conflict_do_nothing()
    return ignoring


_ADD_ACTIVITY = Query(_add_activity)


class NewWeekUser(msgspec.Struct, frozen=True):
    week_start: date


def _add_week_user(dialect: Dialect) -> Executable:
    statement = _insert(dialect, week_users).values(binds_for(list(week_users.c)))
    new: Executable = statement.on_conflict_do_nothing().returning(week_users.c.week_start)
    return new


_ADD_WEEK_USER = Query(_add_week_user, NewWeekUser)


# The parts of one transaction's deltas, in the order they are written: (table, key columns,
# counted columns). `activity` and `week_users` only record that a row exists; every week
# user that is new adds one to its week in `analytics_weeks`.
PARTS: dict[str, tuple[Table, tuple[str, ...], tuple[str, ...]]] = {
    "requests": (request_days, ("day", "status"), ("requests",)),
    "wait_days": (accept_wait_days, ("day", "bucket"), ("requests",)),
    "waits": (accept_waits, ("bucket",), ("requests",)),
    "sessions": (session_days, ("day", "outcome"), ("sessions",)),
    "ratings": (rating_days, ("day", "category"), ("feedback", "overall_sum")),
    "activity": (activity_days, ("day", "week_start", "user_id"), ()),
    "week_users": (week_users, ("week_start", "user_id"), ()),
}
Rows = Sequence[Mapping[str, Any]]
_ONE_BY_ONE: dict[str, Query[Any]] = {
    "requests": _ADD_REQUESTS,
    "wait_days": _ADD_WAIT_DAYS,
    "waits": _ADD_WAITS,
    "sessions": _ADD_SESSIONS,
    "ratings": _ADD_RATINGS,
    "activity": _ADD_ACTIVITY,
}


def _at_once(*present: str) -> Executable:
    """PostgreSQL: every part present in one statement, each table's rows as arrays."""
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    steps: list[str] = []
    for part in present:
        table, keys, counts = PARTS[part]
        columns = [c.name for c in table.c]
        arrays = ", ".join(
            f"CAST(:{part}_{c.name} AS {c.type.compile(dialect=dialect)}[])" for c in table.c
        )
        insert = (
            f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({arrays}) "  # noqa: S608 (our names)
            f"ON CONFLICT ({', '.join(keys)}) "
        )
        if counts:
            adds = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in counts)
            insert += f"DO UPDATE SET {adds}"
        else:
            insert += "DO NOTHING"
        if part == "week_users":
            # Only the rows this statement inserted come back: each new pair counts once.
            steps.append(f"new_week_users AS ({insert} RETURNING week_start)")
            steps.append(
                f"add_weeks AS (INSERT INTO {weeks.name} (week_start, users) "  # noqa: S608 (our names)
                "SELECT week_start, count(*) FROM new_week_users GROUP BY week_start "
                f"ORDER BY week_start ON CONFLICT (week_start) DO UPDATE SET "
                f"users = {weeks.name}.users + excluded.users)"
            )
        else:
            steps.append(f"add_{part} AS ({insert})")
    return text(f"WITH {', '.join(steps)} SELECT 1")


_AT_ONCE = Variants(_at_once)


async def add(db: Connection, parts: Mapping[str, Rows]) -> None:
    """Add one transaction's deltas to the rollups, `parts` by name (PARTS), rows in key order.

    On PostgreSQL in one statement (a round trip each would cost more than all the work); on
    SQLite one per table, the week users one by one to learn which are new.
    """
    present = tuple(part for part in PARTS if parts.get(part))
    if not present:
        return
    if db.dialect == "postgresql":
        arrays = {
            f"{part}_{column.name}": [row[column.name] for row in parts[part]]
            for part in present
            for column in PARTS[part][0].c
        }
        await db.run(_AT_ONCE(*present), **arrays)
        return
    for part in present:
        if part != "week_users":
            await db.run_many(_ONE_BY_ONE[part], parts[part])
    new: Counter[date] = Counter()
    for row in parts.get("week_users", ()):
        # A concurrent transaction adding the same pair makes this one wait for it (the
        # primary key), then find it there: each pair is new to exactly one transaction.
        if await db.all(_ADD_WEEK_USER, **row):
            new[row["week_start"]] += 1
    if new:
        await db.run_many(
            _ADD_WEEKS, [{"week_start": week, "users": n} for week, n in sorted(new.items())]
        )


# --- recomputed from scratch ----------------------------------------------------------------

# Keeps every writer of the rollups waiting until the rebuild commits: a change committed
# before it is in what the rebuild reads, a change committed after it adds its delta on top.
_LOCK = Query(text(f"LOCK TABLE {', '.join(t.name for t in ROLLUPS)} IN EXCLUSIVE MODE"))
_CLEARS = [Query(delete(table)) for table in ROLLUPS]


def _set_waits(dialect: Dialect) -> Executable:
    wait = micros_between(dialect, requests.c.accepted_at, requests.c.created_at)
    return (
        update(requests)
        .where(
            accepted(), or_(requests.c.accept_wait_us.is_(None), requests.c.accept_wait_us != wait)
        )
        .values(accept_wait_us=wait)
    )


_SET_WAITS = Query(_set_waits)
_CLEAR_WAITS = Query(
    update(requests)
    .where(requests.c.accept_wait_us.is_not(None), ~accepted())
    .values(accept_wait_us=None)
)


def _count_requests(dialect: Dialect) -> Executable:
    rows = (
        select(day_of(dialect, requests.c.created_at).label("day"), requests.c.status)
        .where(one_of(requests.c.status, FINAL_REQUEST_STATUSES))
        .subquery()
    )
    counted = select(rows.c.day, rows.c.status, func.count()).group_by(rows.c.day, rows.c.status)
    return request_days.insert().from_select(["day", "status", "requests"], counted)


def _count_wait_days(dialect: Dialect) -> Executable:
    waits = (
        select(
            day_of(dialect, requests.c.created_at).label("day"),
            seconds_of(requests.c.accept_wait_us).label("seconds"),
        )
        .where(requests.c.accept_wait_us.is_not(None))
        .subquery()
    )
    rows = select(waits.c.day, bucket_of_seconds(waits.c.seconds).label("bucket")).subquery()
    counted = select(rows.c.day, rows.c.bucket, func.count()).group_by(rows.c.day, rows.c.bucket)
    return accept_wait_days.insert().from_select(["day", "bucket", "requests"], counted)


_COUNT_WAITS = Query(
    accept_waits.insert().from_select(
        ["bucket", "requests"],
        select(accept_wait_days.c.bucket, func.sum(accept_wait_days.c.requests)).group_by(
            accept_wait_days.c.bucket
        ),
    )
)


def _count_sessions(dialect: Dialect) -> Executable:
    rows = (
        select(
            day_of(dialect, sessions.c.created_at).label("day"), stored_outcome().label("outcome")
        )
        .where(one_of(sessions.c.status, FINAL_SESSION_STATUSES))
        .subquery()
    )
    counted = select(rows.c.day, rows.c.outcome, func.count()).group_by(rows.c.day, rows.c.outcome)
    return session_days.insert().from_select(["day", "outcome", "sessions"], counted)


def _count_ratings(dialect: Dialect) -> Executable:
    rows = (
        select(
            day_of(dialect, sessions.c.created_at).label("day"),
            sessions.c.category,
            feedback.c.overall,
        )
        .select_from(feedback.join(sessions, sessions.c.id == feedback.c.session_id))
        .subquery()
    )
    counted = select(rows.c.day, rows.c.category, func.count(), func.sum(rows.c.overall)).group_by(
        rows.c.day, rows.c.category
    )
    return rating_days.insert().from_select(["day", "category", "feedback", "overall_sum"], counted)


def _count_activity_days(dialect: Dialect) -> Executable:
    def of(created: Any, moment: Any, user: Any) -> Any:
        return select(
            day_of(dialect, created).label("day"),
            week_start(dialect, moment).label("week_start"),
            user.label("user_id"),
        ).where(user.is_not(None))  # a practice session has no interviewer

    active = union(
        of(requests.c.created_at, requests.c.created_at, requests.c.interviewee_id),
        of(sessions.c.created_at, sessions.c.scheduled_at, sessions.c.interviewer_id),
        of(sessions.c.created_at, sessions.c.scheduled_at, sessions.c.interviewee_id),
    ).subquery()
    return activity_days.insert().from_select(
        ["day", "week_start", "user_id"],
        select(active.c.day, active.c.week_start, active.c.user_id),
    )


_COUNT_WEEK_USERS = Query(
    week_users.insert().from_select(
        ["week_start", "user_id"],
        select(activity_days.c.week_start, activity_days.c.user_id).distinct(),
    )
)


_COUNT_WEEKS = Query(
    weeks.insert().from_select(
        ["week_start", "users"],
        select(week_users.c.week_start, func.count()).group_by(week_users.c.week_start),
    )
)

# What `rebuild` runs after clearing, in order, each with what it recomputes.
RECOUNTS: tuple[tuple[str, Query[Any]], ...] = (
    ("waits for acceptance", _SET_WAITS),
    ("request funnel", Query(_count_requests)),
    ("wait histogram by day", Query(_count_wait_days)),
    ("wait histogram", _COUNT_WAITS),
    ("session outcomes", Query(_count_sessions)),
    ("ratings by category", Query(_count_ratings)),
    ("activity by day", Query(_count_activity_days)),
    ("active people by week", _COUNT_WEEK_USERS),
    ("weekly totals", _COUNT_WEEKS),
)


async def lock(db: Connection) -> None:
    """On PostgreSQL, hold off every other writer of the rollups until this transaction ends.
    (SQLite's writers already wait for the one write lock.)"""
    if db.dialect == "postgresql":
        await db.run(_LOCK)


async def clear(db: Connection) -> None:
    await db.run(_CLEAR_WAITS)
    for statement in _CLEARS:
        await db.run(statement)


async def recount(db: Connection, query: Query[Any]) -> int:
    return await db.run(query)
