"""SQL behind a user's own analytics (GET /api/analytics/me), every statement built once.

Each statement reads the caller's own rows only: their sessions through the participant
indexes (interviewer_id, interviewee_id), the feedback about them through the subject index,
each joined by key. So an answer costs what that user's history holds, whatever the size of
the tables; no rollup is kept per user, since a person's sessions are few and what they may
see of the feedback about them changes with time (the 72-hour reveal) and with their own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import (
    ColumnElement,
    Executable,
    Select,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.sql.elements import Label

from peerview.analytics.sql import (
    Bounds,
    bounds_params,
    count_if,
    micros_between,
    text_value,
    total,
    week_start,
)
from peerview.db import Connection, Dialect, Variants, bind
from peerview.interview_sessions.lifecycle import TimeRules
from peerview.models import Feedback, InterviewSession
from peerview.models.base import UTCDateTime, table_of
from peerview.models.enums import SessionStatus

sessions = table_of(InterviewSession)
feedback = table_of(Feedback)
# The caller's own feedback on the same session: it unseals what the other wrote (docs/api.md §7).
given = feedback.alias("given")
_NOW = bind("now", UTCDateTime())
_NO_SHOW_CUTOFF = bind("no_show_cutoff", UTCDateTime())


# --- sessions as they are at `now` (lifecycle.session_at as SQL) --------------------------


def _timed_out() -> ColumnElement[bool]:
    """Stored LIVE but COMPLETED by time: the AUTO_TIMEOUT of lifecycle.session_at."""
    return and_(sessions.c.status == SessionStatus.LIVE, sessions.c.hard_end_at <= _NOW)


def _session_state() -> ColumnElement[str]:
    """A session's status at `now` (lifecycle.session_at as SQL)."""
    missed = and_(
        sessions.c.status == SessionStatus.SCHEDULED, sessions.c.scheduled_at <= _NO_SHOW_CUTOFF
    )
    return case(
        (or_(sessions.c.status == SessionStatus.COMPLETED, _timed_out()), text_value("COMPLETED")),
        (or_(sessions.c.status == SessionStatus.CANCELLED, missed), text_value("CANCELLED")),
        (
            and_(sessions.c.status == SessionStatus.LIVE, sessions.c.hard_end_at > _NOW),
            text_value("LIVE"),
        ),
        else_=text_value("SCHEDULED"),
    )


def _session_ended_at() -> ColumnElement[datetime | None]:
    """`ended_at` at read time (completed sessions only): a timed-out one ended at hard_end_at."""
    return case((_timed_out(), sessions.c.hard_end_at), else_=sessions.c.ended_at)


def _feedback_visible() -> ColumnElement[bool]:
    """Received feedback is unsealed once the caller gave theirs, or 72 hours past the end
    (`reveal_cutoff` = now - 72 h)."""
    return or_(given.c.id.is_not(None), _session_ended_at() <= bind("reveal_cutoff", UTCDateTime()))


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
    practice: int
    practised_us: int


def _my_totals(period: Bounds) -> Any:
    def build(dialect: Dialect) -> Executable:
        state = _session_state().label("state")
        practised = micros_between(dialect, _session_ended_at(), sessions.c.started_at)
        inner = (
            select(
                sessions.c.interviewer_id,
                sessions.c.interviewee_id,
                sessions.c.kind,
                state,
                practised.label("practised_us"),
            )
            .where(_of_user(), *period.on(sessions.c.created_at))
            .subquery()
        )
        completed = inner.c.state == "COMPLETED"
        return select(
            *(
                count_if(inner.c.state == status).label(status.lower())
                for status in ("COMPLETED", "CANCELLED", "LIVE", "SCHEDULED")
            ),
            count_if(inner.c.interviewer_id == _USER).label("as_interviewer"),
            count_if(inner.c.interviewee_id == _USER).label("as_interviewee"),
            count_if(inner.c.kind == "PRACTICE").label("practice"),
            total(case((completed, inner.c.practised_us), else_=0)).label("practised_us"),
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
            total(feedback.c.communication).label("communication"),
            total(feedback.c.problem_solving).label("problem_solving"),
            total(feedback.c.technical).label("technical"),
            total(feedback.c.overall).label("overall"),
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
            total(received).label("overall_sum"),
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
