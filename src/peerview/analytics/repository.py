"""SQL behind the analytics answers, every statement built once.

The platform's figures come from the rollups for whole UTC days, from the rows themselves
for the parts of a period's first and last days (through the `created_at` indexes), and from
the rows that time may still move (OPEN requests, SCHEDULED and LIVE sessions, through their
status indexes), each classified by the read-time rules of the lifecycle. So a platform answer
costs what its period holds, not what the tables hold.

A user's own figures are read from that user's rows (through the participant and subject
indexes): they cost what that user's history holds, whatever the size of the tables.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Executable,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql.elements import Label

from peerview.analytics.buckets import bucket_of_seconds, seconds_of
from peerview.analytics.periods import Split
from peerview.analytics.rollup_repository import (
    FINAL_REQUEST_STATUSES,
    FINAL_SESSION_STATUSES,
    accept_wait_days,
    accept_waits,
    one_of,
    rating_days,
    request_days,
    session_days,
    stored_outcome,
    weeks,
)
from peerview.analytics.sql import micros_between
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
# The caller's own feedback on the same session: it unseals what the other wrote (docs/api.md §7).
given = feedback.alias("given")

_TIME = requests.c.created_at.type
_DAY = request_days.c.day.type
_NOW = bind("now", _TIME)
_NO_SHOW_CUTOFF = bind("no_show_cutoff", _TIME)


def _text(value: str) -> ColumnElement[str]:
    return literal_column(f"'{value}'")


def _total(value: Any) -> ColumnElement[int]:
    """A sum as a plain integer on both databases (PostgreSQL sums BIGINT into NUMERIC)."""
    return cast(func.coalesce(func.sum(value), 0), BigInteger)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return _total(case((condition, 1), else_=0))


# --- periods ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bounds:
    """Which bounds a statement's period has: its key among the statement's variants."""

    start: bool
    end: bool

    def on(self, column: Any) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.start:
            out.append(column >= bind("start", _TIME))
        if self.end:
            out.append(column < bind("end", _TIME))
        return out


def bounds_params(start: datetime | None, end: datetime | None) -> tuple[Bounds, dict[str, Any]]:
    params = {name: value for name, value in (("start", start), ("end", end)) if value is not None}
    return Bounds(start is not None, end is not None), params


# --- one user ---------------------------------------------------------------------------------


def _timed_out() -> ColumnElement[bool]:
    """Stored LIVE but COMPLETED by time: the AUTO_TIMEOUT of lifecycle.session_at."""
    return and_(sessions.c.status == SessionStatus.LIVE, sessions.c.hard_end_at <= _NOW)


def _session_state() -> ColumnElement[str]:
    """A session's status at `now` (lifecycle.session_at as SQL)."""
    missed = and_(
        sessions.c.status == SessionStatus.SCHEDULED, sessions.c.scheduled_at <= _NO_SHOW_CUTOFF
    )
    return case(
        (or_(sessions.c.status == SessionStatus.COMPLETED, _timed_out()), _text("COMPLETED")),
        (or_(sessions.c.status == SessionStatus.CANCELLED, missed), _text("CANCELLED")),
        (
            and_(sessions.c.status == SessionStatus.LIVE, sessions.c.hard_end_at > _NOW),
            _text("LIVE"),
        ),
        else_=_text("SCHEDULED"),
    )


def _session_ended_at() -> ColumnElement[datetime | None]:
    """`ended_at` at read time (completed sessions only): a timed-out one ended at hard_end_at."""
    return case((_timed_out(), sessions.c.hard_end_at), else_=sessions.c.ended_at)


def _feedback_visible() -> ColumnElement[bool]:
    """Received feedback is unsealed once the caller gave theirs, or 72 hours past the end
    (`reveal_cutoff` = now - 72 h)."""
    return or_(given.c.id.is_not(None), _session_ended_at() <= bind("reveal_cutoff", _TIME))


_USER = bind("user_id", sessions.c.interviewer_id.type)


def _of_user() -> ColumnElement[bool]:
    return or_(sessions.c.interviewer_id == _USER, sessions.c.interviewee_id == _USER)


class MyTotals(msgspec.Struct, frozen=True):
    completed: int
    cancelled: int
    live: int
    scheduled: int
    as_interviewer: int
    as_interviewee: int
    practised_us: int


def _my_totals(period: Bounds) -> Any:
    def build(dialect: Dialect) -> Executable:
        state = _session_state().label("state")
        practised = micros_between(dialect, _session_ended_at(), sessions.c.started_at)
        inner = (
            select(
                sessions.c.interviewer_id,
                sessions.c.interviewee_id,
                state,
                practised.label("practised_us"),
            )
            .where(_of_user(), *period.on(sessions.c.created_at))
            .subquery()
        )
        completed = inner.c.state == "COMPLETED"
        return select(
            *(
                _count_if(inner.c.state == status).label(status.lower())
                for status in ("COMPLETED", "CANCELLED", "LIVE", "SCHEDULED")
            ),
            _count_if(inner.c.interviewer_id == _USER).label("as_interviewer"),
            _count_if(inner.c.interviewee_id == _USER).label("as_interviewee"),
            _total(case((completed, inner.c.practised_us), else_=0)).label("practised_us"),
        )

    return build


_MY_TOTALS = Variants(_my_totals, MyTotals)


class MyRatings(msgspec.Struct, frozen=True):
    communication: int
    problem_solving: int
    technical: int
    overall: int
    count: int


def _my_ratings(period: Bounds, sealed: bool) -> Executable:
    query = (
        select(
            _total(feedback.c.communication).label("communication"),
            _total(feedback.c.problem_solving).label("problem_solving"),
            _total(feedback.c.technical).label("technical"),
            _total(feedback.c.overall).label("overall"),
            func.count(feedback.c.id).label("count"),
        )
        .select_from(
            feedback.join(sessions, sessions.c.id == feedback.c.session_id).outerjoin(
                given,
                and_(given.c.session_id == feedback.c.session_id, given.c.author_id == _USER),
            )
        )
        .where(feedback.c.subject_id == _USER, *period.on(sessions.c.created_at))
    )
    return query.where(_feedback_visible()) if sealed else query


_MY_RATINGS = Variants(_my_ratings, MyRatings)


class MyGroup(msgspec.Struct, frozen=True):
    """The caller's sessions of one category or week: how many, and the visible received
    overall ratings (their sum and how many)."""

    what: Any
    sessions: int
    overall_sum: int
    overall_count: int


def _my_sessions_with_feedback(key: Label[Any], period: Bounds, sealed: bool) -> Select[Any]:
    received: ColumnElement[Any] = feedback.c.overall
    if sealed:
        received = case((_feedback_visible(), feedback.c.overall), else_=None)
    by_key: ColumnElement[Any] = literal_column(key.name)
    other = case(
        (sessions.c.interviewer_id == _USER, sessions.c.interviewee_id),
        else_=sessions.c.interviewer_id,
    )
    return (
        select(
            key,
            func.count(func.distinct(sessions.c.id)).label("sessions"),
            _total(received).label("overall_sum"),
            func.count(received).label("overall_count"),
        )
        .select_from(
            sessions.outerjoin(
                feedback,
                # Received = written by the other participant: a lookup by the unique
                # (session_id, author_id) key. Joining on subject_id instead lets SQLite's
                # planner scan all of the caller's feedback for every session.
                and_(feedback.c.session_id == sessions.c.id, feedback.c.author_id == other),
            ).outerjoin(
                given, and_(given.c.session_id == sessions.c.id, given.c.author_id == _USER)
            )
        )
        .where(_of_user(), *period.on(sessions.c.created_at))
        # By the output name: the expression itself carries bound parameters, which
        # PostgreSQL would not recognise as the same expression in GROUP BY.
        .group_by(by_key)
        .order_by(by_key)
    )


_MY_BY_CATEGORY = Variants(
    lambda period, sealed: _my_sessions_with_feedback(
        sessions.c.category.label("what"), period, sealed
    ),
    MyGroup,
)
_MY_WEEKLY = Variants(
    lambda period, sealed: (
        lambda dialect: _my_sessions_with_feedback(
            week_start(dialect, sessions.c.scheduled_at).label("what"), period, sealed
        )
    ),
    MyGroup,
)


@dataclass(frozen=True, slots=True)
class Mine:
    totals: MyTotals
    ratings: MyRatings
    by_category: list[MyGroup]
    weekly: list[MyGroup]


async def mine(
    db: Connection,
    *,
    user_id: str,
    now: datetime,
    rules: TimeRules,
    reveal_after: timedelta | None,
    start: datetime | None,
    end: datetime | None,
) -> Mine:
    """The caller's figures, from the caller's own rows; `reveal_after=None` sees everything."""
    period, params = bounds_params(start, end)
    params.update(user_id=user_id, now=now, no_show_cutoff=now - rules.no_show)
    sealed = reveal_after is not None
    if reveal_after is not None:
        params["reveal_cutoff"] = now - reveal_after
    totals = await db.one(_MY_TOTALS(period), **params)
    ratings = await db.one(_MY_RATINGS(period, sealed), **params)
    # Aggregates without GROUP BY: one row each, always.
    assert totals is not None
    assert ratings is not None
    return Mine(
        totals=totals,
        ratings=ratings,
        by_category=await db.all(_MY_BY_CATEGORY(period, sealed), **params),
        weekly=await db.all(_MY_WEEKLY(period, sealed), **params),
    )


# --- the whole platform -------------------------------------------------------------------------


class Count(msgspec.Struct, frozen=True):
    """One figure of the platform's counts: `part` says which (request, wait, session,
    rating), `item` of what (a status, a bucket, an outcome, a category). The same item may
    come in several rows (rollup, part days, open rows): they add up."""

    part: str
    item: str | None
    n: int
    total: int


@dataclass(frozen=True, slots=True)
class Shape:
    """Which pieces a platform query has: its key among the statement's variants."""

    period: Bounds  # the period's own bounds (rows that time may still move, and edges)
    whole_days: bool  # any whole day read from the rollups
    first_day: bool
    end_day: bool
    edges: int  # part days read from the rows: 0, 1 or 2
    all_time: bool  # no period at all: the all-time histogram


def _row(part: str, item: Any, n: Any, total: Any = None) -> Select[Any]:
    return select(
        _text(part).label("part"),
        item.label("item"),
        cast(n, BigInteger).label("n"),
        (literal_column("0") if total is None else cast(total, BigInteger)).label("total"),
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
            _row("request", requests.c.status, _count_if(final))
            .where(_on_edges(shape, requests.c.created_at))
            .group_by(requests.c.status)
        )
    now_open = case((requests.c.expires_at > _NOW, _text("OPEN")), else_=_text("EXPIRED"))
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


def _active_outcome() -> ColumnElement[str]:
    """What a session stored SCHEDULED or LIVE is at `now` (lifecycle.session_at)."""
    return case(
        (_timed_out(), _text("auto_timeout")),
        (
            and_(sessions.c.status == SessionStatus.LIVE, sessions.c.hard_end_at > _NOW),
            _text("live"),
        ),
        (
            and_(
                sessions.c.status == SessionStatus.SCHEDULED,
                sessions.c.scheduled_at <= _NO_SHOW_CUTOFF,
            ),
            _text("no_show"),
        ),
        else_=_text("scheduled"),
    )


def _sessions(shape: Shape) -> list[Select[Any]]:
    """Sessions by outcome: finished ones from the rollup and the rows of part days, the
    SCHEDULED and LIVE ones from the rows, classified at `now`."""
    parts = []
    if shape.whole_days:
        parts.append(
            _row("session", session_days.c.outcome, func.sum(session_days.c.sessions))
            .where(*_on_days(shape, session_days.c.day))
            .group_by(session_days.c.outcome)
        )
    if shape.edges:
        final = one_of(sessions.c.status, FINAL_SESSION_STATUSES)
        parts.append(
            _row("session", stored_outcome(), _count_if(final))
            .where(_on_edges(shape, sessions.c.created_at))
            .group_by(_BY_ITEM)
        )
    parts.append(
        _row("session", _active_outcome(), func.count())
        .where(
            one_of(sessions.c.status, (SessionStatus.SCHEDULED, SessionStatus.LIVE)),
            *shape.period.on(sessions.c.created_at),
        )
        .group_by(_BY_ITEM)
    )
    return parts


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


def _counts(shape: Shape) -> Executable:
    parts = [*_requests(shape), *_waits(shape), *_sessions(shape), *_ratings(shape)]
    return union_all(*parts)


# Every count of the platform's answer but the weekly one, in one statement.
_COUNTS = Variants(_counts, Count)


async def platform_counts(
    db: Connection, *, split: Split, now: datetime, rules: TimeRules
) -> list[Count]:
    period, params = bounds_params(split.period.start, split.period.end)
    shape = Shape(
        period=period,
        whole_days=split.whole_days,
        first_day=split.first_day is not None,
        end_day=split.end_day is not None,
        edges=len(split.edges),
        all_time=split.period.unbounded,
    )
    params.update(now=now, no_show_cutoff=now - rules.no_show)
    if split.first_day is not None:
        params["first_day"] = split.first_day
    if split.end_day is not None:
        params["end_day"] = split.end_day
    for n, (edge_from, edge_to) in enumerate(split.edges):
        params[f"edge{n}_from"], params[f"edge{n}_to"] = edge_from, edge_to
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
    )


_WAITS_BETWEEN = Variants(_waits_between, Waits)


async def waits_between(
    db: Connection, *, low: int, high: int, start: datetime | None, end: datetime | None
) -> list[int]:
    """The waits (microseconds) in `[low, high)` of the requests created in the period, in
    order: a range of the `(accept_wait_us, created_at)` index."""
    period, params = bounds_params(start, end)
    rows = await db.all(_WAITS_BETWEEN(period), low=low, high=high, **params)
    return [row.accept_wait_us for row in rows]


class WeekUsers(msgspec.Struct, frozen=True):
    week_start: date
    users: int


_ALL_WEEKS = Query(
    select(weeks.c.week_start, weeks.c.users).order_by(weeks.c.week_start), WeekUsers
)


def _active_users_weekly(period: Bounds) -> Any:
    def build(dialect: Dialect) -> Executable:
        def by_week(user: Any, moment: Any, created: Any) -> Select[Any]:
            return select(
                user.label("user_id"), week_start(dialect, moment).label("week_start")
            ).where(*period.on(created))

        activity = union_all(
            by_week(requests.c.interviewee_id, requests.c.created_at, requests.c.created_at),
            by_week(sessions.c.interviewer_id, sessions.c.scheduled_at, sessions.c.created_at),
            by_week(sessions.c.interviewee_id, sessions.c.scheduled_at, sessions.c.created_at),
        ).subquery()
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


async def active_users_weekly(
    db: Connection, *, start: datetime | None, end: datetime | None
) -> list[WeekUsers]:
    """People active each week: all time from the rollup (one row a week); for a period, from
    the period's requests and sessions (through their `created_at` indexes)."""
    if start is None and end is None:
        return await db.all(_ALL_WEEKS)
    period, params = bounds_params(start, end)
    return await db.all(_ACTIVE_USERS_WEEKLY(period), **params)
