"""SQL behind the platform's analytics (GET /api/analytics/platform), every statement built once.

Its figures come from the rollups for whole UTC days, from the rows themselves for the parts
of a period's first and last days (through the `created_at` indexes), and from the rows that
time may still move (OPEN requests, SCHEDULED and LIVE sessions, through their status
indexes), each classified by the read-time rules of the lifecycle. So an answer costs what
its period holds, not what the tables hold.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import msgspec
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Executable,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)

from peerview.analytics.buckets import bucket_of_seconds, seconds_of
from peerview.analytics.periods import Split
from peerview.analytics.rollup_repository import (
    FINAL_REQUEST_STATUSES,
    FINAL_SESSION_STATUSES,
    accept_wait_days,
    accept_waits,
    activity_days,
    one_of,
    rating_days,
    request_days,
    session_days,
    stored_outcome,
    weeks,
)
from peerview.analytics.sql import (
    Bounds,
    bounds_params,
    count_if,
    text_value,
    week_of_day,
)
from peerview.analytics.sql import minutes_between as minutes_between
from peerview.analytics.sql import week_start as week_start
from peerview.db import Connection, Dialect, Query, Variants, bind
from peerview.interview_sessions.lifecycle import TimeRules
from peerview.models import Feedback, InterviewRequest, InterviewSession
from peerview.models.base import table_of
from peerview.models.enums import RequestStatus, SessionStatus

sessions = table_of(InterviewSession)
requests = table_of(InterviewRequest)
feedback = table_of(Feedback)

_TIME = requests.c.created_at.type
_DAY = request_days.c.day.type
_NOW = bind("now", _TIME)
_NO_SHOW_CUTOFF = bind("no_show_cutoff", _TIME)


# --- the whole platform -------------------------------------------------------------------------


class Count(msgspec.Struct, frozen=True):
    """One figure of the platform's counts: `part` says which (request, wait, session,
    rating), `item` of what (a status, a bucket, an outcome, a category). The same item may
    come in several rows (rollup, part days, open rows): they add up. Sessions counted by
    week also say the week they were created in (its Monday); `week` is None otherwise."""

    part: str
    item: str | None
    n: int
    total: int
    week: date | None


@dataclass(frozen=True, slots=True)
class Shape:
    """Which pieces a platform query has: its key among the statement's variants."""

    period: Bounds  # the period's own bounds (rows that time may still move, and edges)
    whole_days: bool  # any whole day read from the rollups
    first_day: bool
    end_day: bool
    edges: int  # part days read from the rows: 0, 1 or 2
    all_time: bool  # no period at all: the all-time histogram
    by_week: bool  # sessions by the week of their `created_at` as well as by outcome


def _row(part: str, item: Any, n: Any, summed: Any = None, week: Any = None) -> Select[Any]:
    return select(
        text_value(part).label("part"),
        item.label("item"),
        cast(n, BigInteger).label("n"),
        (literal_column("0") if summed is None else cast(summed, BigInteger)).label("total"),
        (cast(null(), _DAY) if week is None else week).label("week"),
    )


def _on_days(shape: Shape, column: Any) -> list[ColumnElement[bool]]:
    out: list[ColumnElement[bool]] = []
    if shape.first_day:
        out.append(column >= bind("first_day", _DAY))
    if shape.end_day:
        out.append(column < bind("end_day", _DAY))
    return out


def _on_edges(shape: Shape, column: Any) -> ColumnElement[bool]:
    return or_(
        *(
            and_(column >= bind(f"edge{n}_from", _TIME), column < bind(f"edge{n}_to", _TIME))
            for n in range(shape.edges)
        )
    )


_BY_ITEM: ColumnElement[Any] = literal_column("item")
_BY_WEEK: ColumnElement[Any] = literal_column("week")


def _requests(shape: Shape) -> list[Select[Any]]:
    """Requests by read-time status: final ones from the rollup (whole days) and the rows (part
    days), OPEN ones from the rows, each EXPIRED once past `expires_at`."""
    parts = []
    if shape.whole_days:
        parts.append(
            _row("request", request_days.c.status, func.sum(request_days.c.requests))
            .where(*_on_days(shape, request_days.c.day))
            .group_by(request_days.c.status)
        )
    if shape.edges:
        # Counted by condition, not filtered: the rows are found by `created_at` alone.
        final = one_of(requests.c.status, FINAL_REQUEST_STATUSES)
        parts.append(
            _row("request", requests.c.status, count_if(final))
            .where(_on_edges(shape, requests.c.created_at))
            .group_by(requests.c.status)
        )
    now_open = case((requests.c.expires_at > _NOW, text_value("OPEN")), else_=text_value("EXPIRED"))
    parts.append(
        _row("request", now_open, func.count())
        .where(requests.c.status == RequestStatus.OPEN, *shape.period.on(requests.c.created_at))
        .group_by(_BY_ITEM)
    )
    return parts


def _waits(shape: Shape) -> list[Select[Any]]:
    """The histogram of waits for acceptance."""
    parts = []
    if shape.all_time:
        parts.append(_row("wait", cast(accept_waits.c.bucket, String), accept_waits.c.requests))
    elif shape.whole_days:
        parts.append(
            _row(
                "wait",
                cast(accept_wait_days.c.bucket, String),
                func.sum(accept_wait_days.c.requests),
            )
            .where(*_on_days(shape, accept_wait_days.c.day))
            .group_by(accept_wait_days.c.bucket)
        )
    if shape.edges:
        # Rows without a wait fall in a NULL bucket, counted 0.
        waits = (
            select(seconds_of(requests.c.accept_wait_us).label("seconds"))
            .where(_on_edges(shape, requests.c.created_at))
            .subquery()
        )
        bucket = cast(bucket_of_seconds(waits.c.seconds), String)
        parts.append(_row("wait", bucket, func.count(waits.c.seconds)).group_by(_BY_ITEM))
    return parts


def _active(shape: Shape, dialect: Dialect) -> list[Select[Any]]:
    """What the sessions stored SCHEDULED or LIVE are at `now` (lifecycle.session_at): each
    status classified on the column of its own index, so no row is read but the index's
    (by week, the rows' `created_at` too: these are the sessions not yet over, not history)."""
    missed = case(
        (sessions.c.scheduled_at <= _NO_SHOW_CUTOFF, text_value("no_show")),
        else_=text_value("scheduled"),
    )
    # A LIVE row without hard_end_at (never written so) is neither live nor timed out.
    ended = case(
        (sessions.c.hard_end_at <= _NOW, text_value("auto_timeout")),
        (sessions.c.hard_end_at > _NOW, text_value("live")),
        else_=text_value("scheduled"),
    )
    week, by = _session_week(shape, dialect, sessions.c.created_at)
    return [
        _row("session", item, func.count(), week=week)
        .where(sessions.c.status == status, *shape.period.on(sessions.c.created_at))
        .group_by(*by)
        for status, item in ((SessionStatus.SCHEDULED, missed), (SessionStatus.LIVE, ended))
    ]


def _session_week(shape: Shape, dialect: Dialect, created: Any) -> tuple[Any, list[Any]]:
    """The `week` of a session row (None when not by week), and what its counts group by."""
    if not shape.by_week:
        return None, [_BY_ITEM]
    # By output name, as `item`: PostgreSQL would not match expressions with parameters.
    return week_start(dialect, created), [_BY_ITEM, _BY_WEEK]


def _sessions(shape: Shape, dialect: Dialect) -> list[Select[Any]]:
    """Sessions by outcome (and, `by_week`, by the week of their `created_at`): finished ones
    from the rollup and the rows of part days, the SCHEDULED and LIVE ones from the rows,
    classified at `now`."""
    parts = []
    if shape.whole_days:
        week: Any = None
        by: list[Any] = [session_days.c.outcome]
        if shape.by_week:
            week, by = week_of_day(dialect, session_days.c.day), [session_days.c.outcome, _BY_WEEK]
        parts.append(
            _row("session", session_days.c.outcome, func.sum(session_days.c.sessions), week=week)
            .where(*_on_days(shape, session_days.c.day))
            .group_by(*by)
        )
    if shape.edges:
        final = one_of(sessions.c.status, FINAL_SESSION_STATUSES)
        week, by = _session_week(shape, dialect, sessions.c.created_at)
        parts.append(
            _row("session", stored_outcome(), count_if(final), week=week)
            .where(_on_edges(shape, sessions.c.created_at))
            .group_by(*by)
        )
    return [*parts, *_active(shape, dialect)]


def _ratings(shape: Shape) -> list[Select[Any]]:
    """Feedback (both directions) by the category of its session, filtered on the session's
    `created_at`: how many, and the sum of their overall ratings."""
    parts = []
    if shape.whole_days:
        parts.append(
            _row(
                "rating",
                rating_days.c.category,
                func.sum(rating_days.c.feedback),
                func.sum(rating_days.c.overall_sum),
            )
            .where(*_on_days(shape, rating_days.c.day))
            .group_by(rating_days.c.category)
        )
    if shape.edges:
        parts.append(
            _row("rating", sessions.c.category, func.count(), func.sum(feedback.c.overall))
            .select_from(sessions.join(feedback, feedback.c.session_id == sessions.c.id))
            .where(_on_edges(shape, sessions.c.created_at))
            .group_by(sessions.c.category)
        )
    return parts


def _counts(shape: Shape) -> Any:
    def build(dialect: Dialect) -> Executable:
        parts = [
            *_requests(shape),
            *_waits(shape),
            *_sessions(shape, dialect),
            *_ratings(shape),
        ]
        return union_all(*parts)

    return build


# Every count of the platform's answer but the active people by week, in one statement.
_COUNTS = Variants(_counts, Count)


def _shape_and_params(split: Split, *, by_week: bool = False) -> tuple[Shape, dict[str, Any]]:
    period, params = bounds_params(split.period.start, split.period.end)
    shape = Shape(
        period=period,
        whole_days=split.whole_days,
        first_day=split.first_day is not None,
        end_day=split.end_day is not None,
        edges=len(split.edges),
        all_time=split.period.unbounded,
        by_week=by_week,
    )
    if split.first_day is not None:
        params["first_day"] = split.first_day
    if split.end_day is not None:
        params["end_day"] = split.end_day
    for n, (edge_from, edge_to) in enumerate(split.edges):
        params[f"edge{n}_from"], params[f"edge{n}_to"] = edge_from, edge_to
    return shape, params


async def platform_counts(
    db: Connection, *, split: Split, now: datetime, rules: TimeRules, by_week: bool = False
) -> list[Count]:
    """The platform's counts over `split`; `by_week`, the sessions' by week as well (rows of
    `part` session then say their `week`)."""
    shape, params = _shape_and_params(split, by_week=by_week)
    params.update(now=now, no_show_cutoff=now - rules.no_show)
    return await db.all(_COUNTS(shape), **params)


class Waits(msgspec.Struct, frozen=True):
    accept_wait_us: int


def _waits_between(period: Bounds) -> Executable:
    wait = requests.c.accept_wait_us
    return (
        select(wait)
        .where(
            wait >= bind("low", wait.type),
            wait < bind("high", wait.type),
            *period.on(requests.c.created_at),
        )
        .order_by(wait)
        .offset(bind("skip", Integer()))
        .limit(bind("take", Integer()))
    )


_WAITS_BETWEEN = Variants(_waits_between, Waits)


async def waits_between(
    db: Connection,
    *,
    low: int,
    high: int,
    skip: int,
    take: int,
    start: datetime | None,
    end: datetime | None,
) -> list[int]:
    """`take` waits (microseconds), in order, after the first `skip`, of the requests created
    in the period whose wait is in `[low, high)`: a walk along the `(accept_wait_us,
    created_at)` index over that range only."""
    period, params = bounds_params(start, end)
    rows = await db.all(_WAITS_BETWEEN(period), low=low, high=high, skip=skip, take=take, **params)
    return [row.accept_wait_us for row in rows]


class WeekUsers(msgspec.Struct, frozen=True):
    week_start: date
    users: int


_ALL_WEEKS = Query(
    select(weeks.c.week_start, weeks.c.users).order_by(weeks.c.week_start), WeekUsers
)


def _active_users_weekly(shape: Shape) -> Any:
    """Distinct people by week: whole days from `activity_days`, part days from the rows."""

    def build(dialect: Dialect) -> Executable:
        parts: list[Select[Any]] = []
        if shape.whole_days:
            parts.append(
                select(activity_days.c.week_start, activity_days.c.user_id).where(
                    *_on_days(shape, activity_days.c.day)
                )
            )
        if shape.edges:
            posted = week_start(dialect, requests.c.created_at).label("week_start")
            parts.append(
                select(posted, requests.c.interviewee_id.label("user_id")).where(
                    _on_edges(shape, requests.c.created_at)
                )
            )
            for person in (sessions.c.interviewer_id, sessions.c.interviewee_id):
                met = week_start(dialect, sessions.c.scheduled_at).label("week_start")
                parts.append(
                    select(met, person.label("user_id")).where(
                        _on_edges(shape, sessions.c.created_at)
                    )
                )
        activity = (union_all(*parts) if len(parts) > 1 else parts[0]).subquery()
        return (
            select(
                activity.c.week_start,
                func.count(func.distinct(activity.c.user_id)).label("users"),
            )
            .group_by(activity.c.week_start)
            .order_by(activity.c.week_start)
        )

    return build


_ACTIVE_USERS_WEEKLY = Variants(_active_users_weekly, WeekUsers)


async def active_users_weekly(db: Connection, *, split: Split) -> list[WeekUsers]:
    """People active each week: over all time one row a week (`weeks`); over a period, the
    distinct people of its whole days (`activity_days`) and of its part days (the rows)."""
    if split.period.unbounded:
        return await db.all(_ALL_WEEKS)
    if not (split.whole_days or split.edges):
        return []
    shape, params = _shape_and_params(split)
    return await db.all(_ACTIVE_USERS_WEEKLY(shape), **params)
