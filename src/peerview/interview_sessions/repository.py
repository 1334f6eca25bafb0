"""SQL for interview sessions and the snapshots of their questions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Executable, and_, func, insert, or_, select, update

from peerview.db import Connection, Query, Variants, bind, binds_for, in_list, plus_seconds
from peerview.interview_sessions.lifecycle import TimeRules
from peerview.models import InterviewSession, SessionQuestion, User
from peerview.models.base import table_of
from peerview.models.enums import Difficulty, EndReason, QuestionType, SessionKind, SessionStatus
from peerview.pagination import after, cursor_params

sessions = table_of(InterviewSession)
session_questions = table_of(SessionQuestion)
_users = table_of(User)
interviewer = _users.alias("interviewer")
interviewee = _users.alias("interviewee")
_TIME = sessions.c.scheduled_at.type
_NOW = bind("now", _TIME)
# `now` minus NO_SHOW_MINUTES: a SCHEDULED session scheduled at or before it is a no-show.
_NO_SHOW_CUTOFF = bind("no_show_cutoff", _TIME)


class SessionRow(msgspec.Struct, frozen=True):
    id: str
    kind: SessionKind
    # None for a practice session (docs/api.md §13): no request, no human interviewer.
    request_id: str | None
    interviewer_id: str | None
    interviewee_id: str
    category: str
    difficulty: Difficulty
    type: QuestionType
    status: SessionStatus
    scheduled_at: datetime
    duration_minutes: int
    scheduled_end_at: datetime
    started_at: datetime | None
    planned_end_at: datetime | None
    hard_end_at: datetime | None
    ended_at: datetime | None
    end_reason: EndReason | None
    cancel_reason: str | None
    extended_minutes: int
    interviewee_joined_at: datetime | None
    version: int
    created_at: datetime
    updated_at: datetime
    interviewer_name: str | None
    interviewee_name: str

    @property
    def practice(self) -> bool:
        return self.kind is SessionKind.PRACTICE

    @property
    def conductor_id(self) -> str:
        """Who starts, extends and ends it: the interviewer, or a practice session's
        interviewee."""
        return self.interviewee_id if self.interviewer_id is None else self.interviewer_id


class QuestionRow(msgspec.Struct, frozen=True):
    session_id: str
    question_id: str
    position: int
    title: str
    prompt: str
    hints: list[str]
    solution: str
    added_at: datetime


class SessionWithQuestion(SessionRow, frozen=True):
    """A session and one of its questions (none: a session without any), in one row."""

    q_question_id: str | None
    q_position: int | None
    q_title: str | None
    q_prompt: str | None
    q_hints: list[str] | None
    q_solution: str | None
    q_added_at: datetime | None


class Transitioned(msgspec.Struct, frozen=True):
    """A session the sweeper moved on."""

    id: str
    kind: SessionKind
    interviewer_id: str | None
    interviewee_id: str
    ended_at: datetime | None
    created_at: datetime


def time_params(now: datetime, rules: TimeRules) -> dict[str, datetime]:
    """The parameters of `effective_status_is` at `now`."""
    return {"now": now, "no_show_cutoff": now - rules.no_show}


def effective_status_is(
    status: SessionStatus,
    now: datetime | ColumnElement[datetime] = _NOW,
    no_show_cutoff: datetime | ColumnElement[datetime] = _NO_SHOW_CUTOFF,
) -> ColumnElement[bool]:
    """SQL for "is `status` at `now`", by the same rule as lifecycle.session_at."""
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


def _still_in(status: SessionStatus) -> ColumnElement[bool]:
    """The stored status is `status` and time has not yet moved the session on."""
    if status in (SessionStatus.SCHEDULED, SessionStatus.LIVE):
        return effective_status_is(status)
    return sessions.c.status == status


_WITH_NAMES = select(
    *sessions.c,
    interviewer.c.name.label("interviewer_name"),
    interviewee.c.name.label("interviewee_name"),
).select_from(
    sessions.outerjoin(interviewer, interviewer.c.id == sessions.c.interviewer_id).join(
        interviewee, interviewee.c.id == sessions.c.interviewee_id
    )
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

# Read on every session view and action.
_BY_ID = Query(_WITH_NAMES.where(sessions.c.id == bind("session_id")), SessionRow)
# The session view: the session and its questions in one statement.
_BY_ID_WITH_QUESTIONS = Query(
    select(
        *_WITH_NAMES.selected_columns,
        *(c.label(f"q_{c.name}") for c in QUESTION_COLUMNS[1:]),
    )
    .select_from(
        sessions.outerjoin(interviewer, interviewer.c.id == sessions.c.interviewer_id)
        .join(interviewee, interviewee.c.id == sessions.c.interviewee_id)
        .outerjoin(session_questions, session_questions.c.session_id == sessions.c.id)
    )
    .where(sessions.c.id == bind("session_id"))
    .order_by(session_questions.c.position),
    SessionWithQuestion,
)
_INSERT = Query(insert(sessions).values(binds_for(list(sessions.c))))
_QUESTIONS_OF_ONE = Query(
    select(*QUESTION_COLUMNS)
    .where(session_questions.c.session_id == bind("session_id"))
    .order_by(session_questions.c.position),
    QuestionRow,
)
_QUESTIONS_OF = Query(
    select(*QUESTION_COLUMNS)
    .where(in_list(session_questions.c.session_id, "session_ids"))
    .order_by(session_questions.c.session_id, session_questions.c.position),
    QuestionRow,
)
_MARK_JOINED = Query(
    update(sessions)
    .where(
        sessions.c.id == bind("session_id"),
        sessions.c.status == SessionStatus.LIVE,
        sessions.c.interviewee_joined_at.is_(None),
    )
    .values(interviewee_joined_at=_NOW, updated_at=_NOW)
)
# Whether the interviewer holds a SCHEDULED or LIVE session overlapping [start, end).
_CONFLICT = Query(
    select(sessions.c.id)
    .where(
        sessions.c.interviewer_id == bind("interviewer_id"),
        or_(
            effective_status_is(SessionStatus.SCHEDULED),
            effective_status_is(SessionStatus.LIVE),
        ),
        func.coalesce(sessions.c.started_at, sessions.c.scheduled_at) < bind("end", _TIME),
        func.coalesce(sessions.c.planned_end_at, sessions.c.scheduled_end_at)
        > bind("start", _TIME),
    )
    .limit(1)
)


def _list(status: SessionStatus | None, cursor: bool) -> Executable:
    query = (
        _WITH_NAMES.where(
            or_(
                sessions.c.interviewer_id == bind("user_id"),
                sessions.c.interviewee_id == bind("user_id"),
            )
        )
        .order_by(sessions.c.scheduled_at, sessions.c.id)
        .limit(bind("limit"))
    )
    if status is not None:
        query = query.where(effective_status_is(status))
    if cursor:
        query = query.where(after((sessions.c.scheduled_at, sessions.c.id)))
    return query


_LIST = Variants(_list, SessionRow)


def _update_if(expected: SessionStatus, *columns: str) -> Executable:
    values = {name: bind(name, sessions.c[name].type) for name in columns}
    return (
        update(sessions)
        .where(
            sessions.c.id == bind("session_id"),
            sessions.c.version == bind("version"),
            _still_in(expected),
        )
        .values({**values, "version": sessions.c.version + 1, "updated_at": _NOW})
    )


_UPDATE_IF = Variants(_update_if)


def _persist_due(source: SessionStatus) -> Executable:
    if source is SessionStatus.LIVE:
        due = and_(sessions.c.status == SessionStatus.LIVE, sessions.c.hard_end_at <= _NOW)
        ended_at: Any = sessions.c.hard_end_at
        deadline = sessions.c.hard_end_at
        target, reason = SessionStatus.COMPLETED, EndReason.AUTO_TIMEOUT
    else:
        due = and_(
            sessions.c.status == SessionStatus.SCHEDULED,
            sessions.c.scheduled_at <= _NO_SHOW_CUTOFF,
        )
        ended_at = plus_seconds(sessions.c.scheduled_at, bind("no_show_seconds"))
        deadline = sessions.c.scheduled_at
        target, reason = SessionStatus.CANCELLED, EndReason.NO_SHOW
    # Ordered by the indexed deadline, so the planner walks the (status, deadline) index
    # even when its statistics expect many rows, and an empty last batch stays cheap.
    candidates = (
        select(sessions.c.id)
        .where(due)
        .order_by(deadline)
        .limit(bind("batch"))
        .with_for_update(skip_locked=True)
    )
    return (
        update(sessions)
        .where(sessions.c.id.in_(candidates.scalar_subquery()), due)
        .values(
            status=target,
            end_reason=reason,
            ended_at=ended_at,
            version=sessions.c.version + 1,
            updated_at=_NOW,
        )
        .returning(
            sessions.c.id,
            sessions.c.kind,
            sessions.c.interviewer_id,
            sessions.c.interviewee_id,
            sessions.c.ended_at,
            sessions.c.created_at,
        )
    )


_PERSIST_DUE = {
    source: Query(_persist_due(source), Transitioned)
    for source in (SessionStatus.LIVE, SessionStatus.SCHEDULED)
}


async def get(db: Connection, session_id: str) -> SessionRow | None:
    return await db.one(_BY_ID, session_id=session_id)


async def get_with_questions(
    db: Connection, session_id: str
) -> tuple[SessionRow, list[QuestionRow]] | None:
    """A session and its questions in position order, in one round trip."""
    rows = await db.all(_BY_ID_WITH_QUESTIONS, session_id=session_id)
    if not rows:
        return None
    questions = [
        QuestionRow(
            session_id=row.id,
            question_id=row.q_question_id,
            position=row.q_position,  # type: ignore[arg-type]
            title=row.q_title,  # type: ignore[arg-type]
            prompt=row.q_prompt,  # type: ignore[arg-type]
            hints=row.q_hints,  # type: ignore[arg-type]
            solution=row.q_solution,  # type: ignore[arg-type]
            added_at=row.q_added_at,  # type: ignore[arg-type]
        )
        for row in rows
        if row.q_question_id is not None
    ]
    return rows[0], questions


async def list_for_user(
    db: Connection,
    *,
    user_id: str,
    status: SessionStatus | None,
    now: datetime,
    rules: TimeRules,
    cursor: list[Any] | None,
    limit: int,
) -> list[SessionRow]:
    params: dict[str, Any] = {"user_id": user_id, "limit": limit + 1, **time_params(now, rules)}
    if cursor is not None:
        params.update(cursor_params(cursor))
    return await db.all(_LIST(status, cursor is not None), **params)


async def insert_session(db: Connection, **values: Any) -> None:
    await db.run(_INSERT, **values)


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
    query = _UPDATE_IF(expected, *sorted(values))
    changed = await db.run(
        query, session_id=session_id, version=version, **time_params(now, rules), **values
    )
    return changed == 1


async def mark_interviewee_joined(db: Connection, *, session_id: str, now: datetime) -> bool:
    return await db.run(_MARK_JOINED, session_id=session_id, now=now) == 1


async def interviewer_has_conflict(
    db: Connection,
    *,
    interviewer_id: str,
    start: datetime,
    end: datetime,
    now: datetime,
    rules: TimeRules,
) -> bool:
    found = await db.scalar(
        _CONFLICT,
        interviewer_id=interviewer_id,
        start=start,
        end=end,
        **time_params(now, rules),
    )
    return found is not None


async def questions_of_one(db: Connection, session_id: str) -> list[QuestionRow]:
    return await db.all(_QUESTIONS_OF_ONE, session_id=session_id)


async def questions_of(db: Connection, session_ids: list[str]) -> dict[str, list[QuestionRow]]:
    out: dict[str, list[QuestionRow]] = {sid: [] for sid in session_ids}
    if session_ids:
        for row in await db.all(_QUESTIONS_OF, session_ids=session_ids):
            out[row.session_id].append(row)
    return out


async def persist_due(
    db: Connection, *, source: SessionStatus, now: datetime, rules: TimeRules, batch: int
) -> list[Transitioned]:
    """Write one bounded batch of transitions that time has already made; return those rows.

    On PostgreSQL the candidates are locked with SKIP LOCKED, so concurrent sweepers
    split the work instead of queueing behind each other; the status condition in the
    UPDATE itself makes a second sweeper change nothing twice on either database.
    """
    params: dict[str, Any] = {"now": now, "batch": batch}
    if source is SessionStatus.SCHEDULED:
        params["no_show_cutoff"] = now - rules.no_show
        params["no_show_seconds"] = rules.no_show.total_seconds()
    return await db.all(_PERSIST_DUE[source], **params)
