"""SQL for interview sessions and the snapshots of their questions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.sql import Select

from peerview.db import Connection, RowMapping, plus_seconds
from peerview.interview_sessions.lifecycle import TimeRules
from peerview.models import InterviewSession, SessionQuestion, User
from peerview.models.base import table_of
from peerview.models.enums import SessionStatus
from peerview.pagination import after

sessions = table_of(InterviewSession)
session_questions = table_of(SessionQuestion)
_users = table_of(User)
interviewer = _users.alias("interviewer")
interviewee = _users.alias("interviewee")

SESSION_COLUMNS = (
    *sessions.c,
    interviewer.c.name.label("interviewer_name"),
    interviewee.c.name.label("interviewee_name"),
)
QUESTION_COLUMNS = (
    session_questions.c.session_id,
    session_questions.c.question_id,
    session_questions.c.position,
    session_questions.c.title,
    session_questions.c.prompt,
    session_questions.c.hints,
    session_questions.c.solution,
    session_questions.c.added_at,
)


def _with_names() -> Select[Any]:
    return select(*SESSION_COLUMNS).select_from(
        sessions.join(interviewer, interviewer.c.id == sessions.c.interviewer_id).join(
            interviewee, interviewee.c.id == sessions.c.interviewee_id
        )
    )


def effective_status_is(
    status: SessionStatus, now: datetime, rules: TimeRules
) -> ColumnElement[bool]:
    """SQL for "is `status` at `now`", by the same rule as lifecycle.session_at."""
    no_show_cutoff = now - rules.no_show
    overdue_live = and_(sessions.c.status == SessionStatus.LIVE, sessions.c.hard_end_at <= now)
    missed = and_(
        sessions.c.status == SessionStatus.SCHEDULED, sessions.c.scheduled_at <= no_show_cutoff
    )
    if status is SessionStatus.SCHEDULED:
        return and_(
            sessions.c.status == SessionStatus.SCHEDULED,
            sessions.c.scheduled_at > no_show_cutoff,
        )
    if status is SessionStatus.LIVE:
        return and_(sessions.c.status == SessionStatus.LIVE, sessions.c.hard_end_at > now)
    if status is SessionStatus.COMPLETED:
        return or_(sessions.c.status == SessionStatus.COMPLETED, overdue_live)
    return or_(sessions.c.status == SessionStatus.CANCELLED, missed)


def _still_in(status: SessionStatus, now: datetime, rules: TimeRules) -> ColumnElement[bool]:
    """The stored status is `status` and time has not yet moved the session on."""
    return (
        effective_status_is(status, now, rules)
        if status
        in (
            SessionStatus.SCHEDULED,
            SessionStatus.LIVE,
        )
        else sessions.c.status == status
    )


# Read on every session view and action: built once, the id bound as a parameter.
_SESSION_BY_ID = _with_names().where(sessions.c.id == bindparam("session_id"))


async def get(db: Connection, session_id: str) -> RowMapping | None:
    result = await db.execute(_SESSION_BY_ID, {"session_id": session_id})
    row: RowMapping | None = result.mappings().first()
    return row


async def get_by_request(db: Connection, request_id: str) -> RowMapping | None:
    result = await db.execute(_with_names().where(sessions.c.request_id == request_id))
    row: RowMapping | None = result.mappings().first()
    return row


async def list_for_user(
    db: Connection,
    *,
    user_id: str,
    status: SessionStatus | None,
    now: datetime,
    rules: TimeRules,
    cursor: list[Any] | None,
    limit: int,
) -> list[RowMapping]:
    query = (
        _with_names()
        .where(or_(sessions.c.interviewer_id == user_id, sessions.c.interviewee_id == user_id))
        .order_by(sessions.c.scheduled_at, sessions.c.id)
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(effective_status_is(status, now, rules))
    if cursor is not None:
        query = query.where(after((sessions.c.scheduled_at, sessions.c.id), cursor))
    result = await db.execute(query)
    return list(result.mappings().all())


async def insert_session(db: Connection, values: dict[str, Any]) -> None:
    await db.execute(insert(sessions).values(**values))


async def update_if(
    db: Connection,
    *,
    session_id: str,
    expected: SessionStatus,
    version: int,
    now: datetime,
    rules: TimeRules,
    values: dict[str, Any],
) -> bool:
    """Apply `values` only if the session is still `expected` (by time too) at `version`.

    The one conditional UPDATE behind every lifecycle action: no row changed means
    someone else (a participant or the sweeper) got there first.
    """
    result = await db.execute(
        update(sessions)
        .where(
            sessions.c.id == session_id,
            sessions.c.version == version,
            _still_in(expected, now, rules),
        )
        .values(**values, version=sessions.c.version + 1, updated_at=now)
    )
    return result.rowcount == 1


async def mark_interviewee_joined(db: Connection, *, session_id: str, now: datetime) -> bool:
    result = await db.execute(
        update(sessions)
        .where(
            sessions.c.id == session_id,
            sessions.c.status == SessionStatus.LIVE,
            sessions.c.interviewee_joined_at.is_(None),
        )
        .values(interviewee_joined_at=now, updated_at=now)
    )
    return result.rowcount == 1


async def interviewer_has_conflict(
    db: Connection,
    *,
    interviewer_id: str,
    start: datetime,
    end: datetime,
    now: datetime,
    rules: TimeRules,
) -> bool:
    """Whether the interviewer holds a SCHEDULED or LIVE session overlapping [start, end)."""
    busy_from = func.coalesce(sessions.c.started_at, sessions.c.scheduled_at)
    busy_until = func.coalesce(sessions.c.planned_end_at, sessions.c.scheduled_end_at)
    query = (
        select(sessions.c.id)
        .where(
            sessions.c.interviewer_id == interviewer_id,
            or_(
                effective_status_is(SessionStatus.SCHEDULED, now, rules),
                effective_status_is(SessionStatus.LIVE, now, rules),
            ),
            busy_from < end,
            busy_until > start,
        )
        .limit(1)
    )
    result = await db.execute(query)
    return result.first() is not None


_QUESTIONS_OF = (
    select(*QUESTION_COLUMNS)
    .where(session_questions.c.session_id.in_(bindparam("session_ids", expanding=True)))
    .order_by(session_questions.c.session_id, session_questions.c.position)
)


async def questions_of(db: Connection, session_ids: list[str]) -> dict[str, list[RowMapping]]:
    if not session_ids:
        return {}
    result = await db.execute(_QUESTIONS_OF, {"session_ids": session_ids})
    out: dict[str, list[RowMapping]] = {sid: [] for sid in session_ids}
    for row in result.mappings():
        out[row["session_id"]].append(row)
    return out


async def persist_due(
    db: Connection,
    *,
    source: SessionStatus,
    target: SessionStatus,
    end_reason: str,
    now: datetime,
    rules: TimeRules,
    batch: int,
) -> list[RowMapping]:
    """Write one bounded batch of transitions that time has already made; return those rows.

    On PostgreSQL the candidates are locked with SKIP LOCKED, so concurrent sweepers
    split the work instead of queueing behind each other; the status condition in the
    UPDATE itself makes a second sweeper change nothing twice on either database.
    """
    if source is SessionStatus.LIVE:
        due = and_(sessions.c.status == SessionStatus.LIVE, sessions.c.hard_end_at <= now)
        ended_at: Any = sessions.c.hard_end_at
        deadline = sessions.c.hard_end_at
    else:
        due = and_(
            sessions.c.status == SessionStatus.SCHEDULED,
            sessions.c.scheduled_at <= now - rules.no_show,
        )
        ended_at = plus_seconds(sessions.c.scheduled_at, rules.no_show.total_seconds())
        deadline = sessions.c.scheduled_at
    # Ordered by the indexed deadline, so the planner walks the (status, deadline) index
    # even when its statistics expect many rows, and an empty last batch stays cheap.
    candidates = select(sessions.c.id).where(due).order_by(deadline).limit(batch)
    if db.dialect == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    result = await db.execute(
        update(sessions)
        .where(sessions.c.id.in_(candidates.scalar_subquery()), due)
        .values(
            status=target,
            end_reason=end_reason,
            ended_at=ended_at,
            version=sessions.c.version + 1,
            updated_at=now,
        )
        .returning(
            sessions.c.id,
            sessions.c.interviewer_id,
            sessions.c.interviewee_id,
            sessions.c.ended_at,
        )
    )
    return list(result.mappings().all())
