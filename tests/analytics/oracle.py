"""The analytics answers as the whole-table SQL computed them before the rollups: the oracle.

These are the aggregate queries that counted, summed and averaged every row on each call
(kept here verbatim, statements built per call through `Connection.execute`), shaped into
the same JSON as the API. The rollup-based answers must equal them on the same data.
The platform's sessions by week, a figure added later, are counted the same way: the outcome
counts of every row, grouped by the week of its `created_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Date,
    Float,
    Integer,
    and_,
    case,
    cast,
    extract,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.sql import Select
from sqlalchemy.sql.elements import Label

from peerview.db import Connection
from peerview.interview_requests.repository import effective_status_is as request_status_is
from peerview.interview_sessions.lifecycle import TimeRules
from peerview.interview_sessions.repository import effective_status_is as session_status_is
from peerview.models import Feedback, InterviewRequest, InterviewSession
from peerview.models.base import table_of
from peerview.models.enums import EndReason, RequestStatus, SessionStatus
from tests.support.sql import execute

sessions = table_of(InterviewSession)
requests = table_of(InterviewRequest)
feedback = table_of(Feedback)
# The caller's own feedback on the same session: it unseals what the other wrote (docs/api.md §7).
given = feedback.alias("given")


@dataclass(frozen=True, slots=True)
class Period:
    """Optional bounds on `created_at`: `start` inclusive, `end` exclusive."""

    start: datetime | None = None
    end: datetime | None = None

    def on(self, column: Any) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.start is not None:
            out.append(column >= self.start)
        if self.end is not None:
            out.append(column < self.end)
        return out


# --- dialect-specific pieces -------------------------------------------------------------


def week_start(db: Connection, column: Any) -> ColumnElement[date]:
    """The Monday (UTC) of the ISO week of `column`."""
    if db.dialect == "postgresql":
        # date_trunc on a timestamptz truncates in the connection's time zone: pin UTC first.
        return cast(func.date_trunc("week", func.timezone("UTC", column)), Date)
    # SQLite keeps naive UTC text. 'weekday 0' moves forward to the week's Sunday (staying on
    # a Sunday), and the ISO week that Sunday ends began six days earlier.
    return func.date(column, "weekday 0", "-6 days", type_=Date)


def minutes_between(db: Connection, later: Any, earlier: Any) -> ColumnElement[Any]:
    if db.dialect == "postgresql":
        return cast(extract("epoch", later - earlier), Float) / 60
    return cast((func.julianday(later) - func.julianday(earlier)) * 1440, Float)


# --- sessions as they are at `now` ----------------------------------------------------------


def _session_state(now: datetime, rules: TimeRules) -> ColumnElement[str]:
    return case(
        (
            session_status_is(SessionStatus.COMPLETED, now, now - rules.no_show),
            SessionStatus.COMPLETED.value,
        ),
        (
            session_status_is(SessionStatus.CANCELLED, now, now - rules.no_show),
            SessionStatus.CANCELLED.value,
        ),
        (session_status_is(SessionStatus.LIVE, now, now - rules.no_show), SessionStatus.LIVE.value),
        else_=SessionStatus.SCHEDULED.value,
    )


def _timed_out(now: datetime, rules: TimeRules) -> ColumnElement[bool]:
    """Still stored LIVE but already COMPLETED by time: the AUTO_TIMEOUT of lifecycle.session_at."""
    return and_(
        sessions.c.status == SessionStatus.LIVE,
        session_status_is(SessionStatus.COMPLETED, now, now - rules.no_show),
    )


def _session_end_reason(now: datetime, rules: TimeRules) -> ColumnElement[str | None]:
    missed = and_(
        sessions.c.status == SessionStatus.SCHEDULED,
        session_status_is(SessionStatus.CANCELLED, now, now - rules.no_show),
    )
    return case(
        (_timed_out(now, rules), EndReason.AUTO_TIMEOUT.value),
        (missed, EndReason.NO_SHOW.value),
        else_=sessions.c.end_reason,
    )


def _session_ended_at(now: datetime, rules: TimeRules) -> ColumnElement[datetime | None]:
    """`ended_at` at read time (completed sessions only): a timed-out one ended at hard_end_at."""
    return case((_timed_out(now, rules), sessions.c.hard_end_at), else_=sessions.c.ended_at)


def _feedback_visible(
    *, now: datetime, rules: TimeRules, reveal_after: timedelta
) -> ColumnElement[bool]:
    """Received feedback is unsealed once the caller gave theirs, or `reveal_after` past the end."""
    return or_(given.c.id.is_not(None), _session_ended_at(now, rules) <= now - reveal_after)


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _of_user(user_id: str) -> ColumnElement[bool]:
    return or_(sessions.c.interviewer_id == user_id, sessions.c.interviewee_id == user_id)


# --- one user -------------------------------------------------------------------------------


async def my_session_totals(
    db: Connection, *, user_id: str, now: datetime, rules: TimeRules, period: Period
) -> dict[str, Any]:
    state = _session_state(now, rules).label("state")
    inner = (
        select(
            sessions.c.interviewer_id,
            sessions.c.interviewee_id,
            sessions.c.kind,
            state,
            minutes_between(db, _session_ended_at(now, rules), sessions.c.started_at).label(
                "minutes"
            ),
        )
        .where(_of_user(user_id), *period.on(sessions.c.created_at))
        .subquery()
    )
    completed = inner.c.state == SessionStatus.COMPLETED.value
    query = select(
        *(
            _count_if(inner.c.state == s.value).label(s.value.lower())
            for s in (
                SessionStatus.COMPLETED,
                SessionStatus.CANCELLED,
                SessionStatus.LIVE,
                SessionStatus.SCHEDULED,
            )
        ),
        _count_if(inner.c.interviewer_id == user_id).label("as_interviewer"),
        _count_if(inner.c.interviewee_id == user_id).label("as_interviewee"),
        _count_if(inner.c.kind == "PRACTICE").label("practice"),
        func.coalesce(func.sum(case((completed, inner.c.minutes), else_=0.0)), 0.0).label(
            "minutes_practised"
        ),
    )
    result = await execute(db, query)
    return dict(result.mappings().one())


async def my_ratings(
    db: Connection,
    *,
    user_id: str,
    now: datetime,
    rules: TimeRules,
    reveal_after: timedelta | None,
    period: Period,
) -> dict[str, Any]:
    """Averages of feedback about the caller that they may see; `reveal_after=None` sees all."""
    query = (
        select(
            func.avg(feedback.c.communication).label("communication"),
            func.avg(feedback.c.problem_solving).label("problem_solving"),
            func.avg(feedback.c.technical).label("technical"),
            func.avg(feedback.c.overall).label("overall"),
            func.count(feedback.c.id).label("count"),
        )
        .select_from(
            feedback.join(sessions, sessions.c.id == feedback.c.session_id).outerjoin(
                given,
                and_(given.c.session_id == feedback.c.session_id, given.c.author_id == user_id),
            )
        )
        .where(feedback.c.subject_id == user_id, *period.on(sessions.c.created_at))
    )
    if reveal_after is not None:
        query = query.where(_feedback_visible(now=now, rules=rules, reveal_after=reveal_after))
    result = await execute(db, query)
    return dict(result.mappings().one())


def _my_sessions_with_feedback(
    *,
    key: Label[Any],
    user_id: str,
    now: datetime,
    rules: TimeRules,
    reveal_after: timedelta | None,
    period: Period,
) -> Select[Any]:
    """The caller's sessions grouped by `key`: how many, and the visible received overall."""
    received: ColumnElement[Any] = feedback.c.overall
    if reveal_after is not None:
        visible = _feedback_visible(now=now, rules=rules, reveal_after=reveal_after)
        received = case((visible, feedback.c.overall), else_=None)
    by_name: ColumnElement[Any] = literal_column(key.name)
    other = case(
        (sessions.c.interviewer_id == user_id, sessions.c.interviewee_id),
        else_=sessions.c.interviewer_id,
    )
    return (
        select(
            key,
            func.count(func.distinct(sessions.c.id)).label("sessions"),
            func.avg(received).label("average_overall"),
        )
        .select_from(
            sessions.outerjoin(
                feedback,
                # Received = written by the other participant: a lookup by the unique
                # (session_id, author_id) key. Joining on subject_id instead lets SQLite's
                # planner scan all of the caller's feedback for every session.
                and_(feedback.c.session_id == sessions.c.id, feedback.c.author_id == other),
            ).outerjoin(
                given, and_(given.c.session_id == sessions.c.id, given.c.author_id == user_id)
            )
        )
        .where(_of_user(user_id), *period.on(sessions.c.created_at))
        # By the output name: the expression itself carries bound parameters, which
        # PostgreSQL would not recognise as the same expression in GROUP BY.
        .group_by(by_name)
        .order_by(by_name)
    )


async def my_by_category(
    db: Connection,
    *,
    user_id: str,
    now: datetime,
    rules: TimeRules,
    reveal_after: timedelta | None,
    period: Period,
) -> list[dict[str, Any]]:
    query = _my_sessions_with_feedback(
        key=sessions.c.category.label("category"),
        user_id=user_id,
        now=now,
        rules=rules,
        reveal_after=reveal_after,
        period=period,
    )
    result = await execute(db, query)
    return [dict(row) for row in result.mappings()]


async def my_weekly(
    db: Connection,
    *,
    user_id: str,
    now: datetime,
    rules: TimeRules,
    reveal_after: timedelta | None,
    period: Period,
) -> list[dict[str, Any]]:
    query = _my_sessions_with_feedback(
        key=week_start(db, sessions.c.scheduled_at).label("week_start"),
        user_id=user_id,
        now=now,
        rules=rules,
        reveal_after=reveal_after,
        period=period,
    )
    result = await execute(db, query)
    return [dict(row) for row in result.mappings()]


# --- the whole platform ---------------------------------------------------------------------


async def request_funnel(db: Connection, *, now: datetime, period: Period) -> dict[str, Any]:
    counts = {
        status.value.lower(): _count_if(request_status_is(status, now)).label(status.value.lower())
        for status in RequestStatus
    }
    query = select(func.count().label("created"), *counts.values()).where(
        *period.on(requests.c.created_at)
    )
    result = await execute(db, query.select_from(requests))
    return dict(result.mappings().one())


async def median_minutes_to_accept(db: Connection, *, period: Period) -> float | None:
    minutes = minutes_between(db, requests.c.accepted_at, requests.c.created_at)
    accepted = (
        requests.c.status == RequestStatus.ACCEPTED,
        requests.c.accepted_at.is_not(None),
        *period.on(requests.c.created_at),
    )
    if db.dialect == "postgresql":
        query = select(func.percentile_cont(0.5).within_group(minutes)).where(*accepted)
    else:
        # No percentile function in SQLite: skip to the middle one or two values in order.
        n = select(func.count()).select_from(requests).where(*accepted).scalar_subquery()
        middle = (
            select(minutes.label("minutes"))
            .where(*accepted)
            .order_by(minutes)
            .limit(2 - n % 2)
            .offset(cast((n - 1) / 2, Integer))
            .subquery()
        )
        query = select(func.avg(middle.c.minutes))
    value = (await execute(db, query)).scalar_one()
    return None if value is None else float(value)


def _session_outcomes(
    db: Connection, *, now: datetime, rules: TimeRules, period: Period, weekly: bool
) -> Select[Any]:
    """The six outcome counts of the period's sessions; `weekly`, one row per week of their
    `created_at` (its Monday, `week_start`), oldest first."""
    inner = (
        select(
            _session_state(now, rules).label("state"),
            _session_end_reason(now, rules).label("end_reason"),
            week_start(db, sessions.c.created_at).label("week_start"),
        )
        .where(*period.on(sessions.c.created_at))
        .subquery()
    )
    state, reason = inner.c.state, inner.c.end_reason
    completed = state == SessionStatus.COMPLETED.value
    cancelled = state == SessionStatus.CANCELLED.value
    auto = reason == EndReason.AUTO_TIMEOUT.value
    no_show = reason == EndReason.NO_SHOW.value
    query = select(
        _count_if(and_(completed, ~auto)).label("completed"),
        _count_if(and_(completed, auto)).label("auto_timeout"),
        _count_if(and_(cancelled, no_show)).label("no_show"),
        # end_reason may be NULL on old rows: "not NO_SHOW" must include them.
        _count_if(and_(cancelled, or_(reason.is_(None), ~no_show))).label("cancelled"),
        _count_if(state == SessionStatus.LIVE.value).label("live"),
        _count_if(state == SessionStatus.SCHEDULED.value).label("scheduled"),
    )
    if weekly:
        query = (
            query.add_columns(inner.c.week_start)
            .group_by(inner.c.week_start)
            .order_by(inner.c.week_start)
        )
    return query


async def session_outcomes(
    db: Connection, *, now: datetime, rules: TimeRules, period: Period
) -> dict[str, Any]:
    query = _session_outcomes(db, now=now, rules=rules, period=period, weekly=False)
    result = await execute(db, query)
    return dict(result.mappings().one())


async def sessions_weekly(
    db: Connection, *, now: datetime, rules: TimeRules, period: Period
) -> list[dict[str, Any]]:
    """The outcomes of the sessions created each week (weeks with sessions only)."""
    query = _session_outcomes(db, now=now, rules=rules, period=period, weekly=True)
    result = await execute(db, query)
    return [dict(row) for row in result.mappings()]


async def ratings_by_category(db: Connection, *, period: Period) -> list[dict[str, Any]]:
    query = (
        select(
            sessions.c.category,
            func.count(feedback.c.id).label("count"),
            func.avg(feedback.c.overall).label("average_overall"),
        )
        .select_from(feedback.join(sessions, sessions.c.id == feedback.c.session_id))
        .where(*period.on(sessions.c.created_at))
        .group_by(sessions.c.category)
        .order_by(sessions.c.category)
    )
    result = await execute(db, query)
    return [dict(row) for row in result.mappings()]


async def active_users_weekly(db: Connection, *, period: Period) -> list[dict[str, Any]]:
    def by_week(user: Any, moment: Any, created: Any) -> Select[Any]:
        return select(user.label("user_id"), week_start(db, moment).label("week_start")).where(
            *period.on(created)
        )

    activity = union_all(
        by_week(requests.c.interviewee_id, requests.c.created_at, requests.c.created_at),
        by_week(sessions.c.interviewer_id, sessions.c.scheduled_at, sessions.c.created_at),
        by_week(sessions.c.interviewee_id, sessions.c.scheduled_at, sessions.c.created_at),
    ).subquery()
    query = (
        select(
            activity.c.week_start,
            func.count(func.distinct(activity.c.user_id)).label("users"),
        )
        .group_by(activity.c.week_start)
        .order_by(activity.c.week_start)
    )
    result = await execute(db, query)
    return [dict(row) for row in result.mappings()]


# --- the answers, shaped as the service shaped them ------------------------------------------

_CENT = Decimal("0.01")
REVEAL_AFTER = timedelta(hours=72)


def rounded(value: Any) -> float | None:
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP))


def _day(value: Any) -> str:
    return (value if isinstance(value, date) else date.fromisoformat(str(value))).isoformat()


async def platform(
    db: Connection, *, now: datetime, rules: TimeRules, start: datetime | None, end: datetime | None
) -> dict[str, Any]:
    period = Period(start, end)
    funnel = await request_funnel(db, now=now, period=period)
    median = await median_minutes_to_accept(db, period=period)
    outcomes = await session_outcomes(db, now=now, rules=rules, period=period)
    ratings = await ratings_by_category(db, period=period)
    active = await active_users_weekly(db, period=period)
    weekly = await sessions_weekly(db, now=now, rules=rules, period=period)
    outcome_names = list(outcomes)
    return {
        "funnel": {key: int(value) for key, value in funnel.items()},
        "median_minutes_to_accept": rounded(median),
        "sessions": {key: int(value) for key, value in outcomes.items()},
        "ratings_by_category": [
            {
                "category": row["category"],
                "count": int(row["count"]),
                "average_overall": rounded(row["average_overall"]),
            }
            for row in ratings
        ],
        "active_users_weekly": [
            {"week_start": _day(row["week_start"]), "users": int(row["users"])} for row in active
        ],
        "sessions_weekly": [
            {
                "week_start": _day(row["week_start"]),
                "sessions": sum(int(row[name]) for name in outcome_names),
                **{name: int(row[name]) for name in outcome_names},
            }
            for row in weekly
        ],
    }


async def mine(
    db: Connection,
    *,
    user_id: str,
    is_admin: bool,
    now: datetime,
    rules: TimeRules,
    start: datetime | None,
    end: datetime | None,
) -> dict[str, Any]:
    reveal_after = None if is_admin else REVEAL_AFTER
    scope: dict[str, Any] = {
        "user_id": user_id,
        "now": now,
        "rules": rules,
        "period": Period(start, end),
    }
    totals = await my_session_totals(db, **scope)
    ratings = await my_ratings(db, reveal_after=reveal_after, **scope)
    categories = await my_by_category(db, reveal_after=reveal_after, **scope)
    weeks = await my_weekly(db, reveal_after=reveal_after, **scope)
    return {
        "sessions": {
            key: int(totals[key])
            for key in (
                "completed",
                "cancelled",
                "live",
                "scheduled",
                "as_interviewer",
                "as_interviewee",
                "practice",
            )
        },
        "minutes_practised": rounded(totals["minutes_practised"]) or 0.0,
        "ratings_received": {
            "communication": rounded(ratings["communication"]),
            "problem_solving": rounded(ratings["problem_solving"]),
            "technical": rounded(ratings["technical"]),
            "overall": rounded(ratings["overall"]),
            "count": int(ratings["count"]),
        },
        "by_category": [
            {
                "category": row["category"],
                "sessions": int(row["sessions"]),
                "average_overall": rounded(row["average_overall"]),
            }
            for row in categories
        ],
        "weekly": [
            {
                "week_start": _day(row["week_start"]),
                "sessions": int(row["sessions"]),
                "average_overall": rounded(row["average_overall"]),
            }
            for row in weeks
        ],
    }
