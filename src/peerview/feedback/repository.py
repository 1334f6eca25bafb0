"""SQL for feedback, with the names of author and subject and the times of its session."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import Executable, exists, insert, select

from peerview.db import Connection, Query, Variants, bind, binds_for
from peerview.feedback.schemas import AuthorRole
from peerview.models import Feedback, InterviewSession, User
from peerview.models.base import table_of
from peerview.models.enums import EndReason, SessionStatus
from peerview.pagination import after, cursor_params

feedback = table_of(Feedback)
_sessions = table_of(InterviewSession)
_users = table_of(User)
_author = _users.alias("author")
_subject = _users.alias("subject")
_own = feedback.alias("own")

FEEDBACK_COLUMNS = (
    *feedback.c,
    _author.c.name.label("author_name"),
    _subject.c.name.label("subject_name"),
)
# What the lifecycle needs to tell when the session ended (lifecycle.SessionTimes).
SESSION_TIME_COLUMNS = (
    _sessions.c.status,
    _sessions.c.scheduled_at,
    _sessions.c.hard_end_at,
    _sessions.c.ended_at,
    _sessions.c.end_reason,
)
ORDER = (feedback.c.created_at, feedback.c.id)


class FeedbackRow(msgspec.Struct, frozen=True):
    id: str
    session_id: str
    author_id: str
    subject_id: str
    author_role: AuthorRole
    communication: int
    problem_solving: int
    technical: int
    overall: int
    comments: str
    created_at: datetime
    author_name: str
    subject_name: str


class ReceivedRow(msgspec.Struct, frozen=True):
    """Feedback about a user, with its session's times and whether they left their own."""

    id: str
    session_id: str
    author_id: str
    subject_id: str
    author_role: AuthorRole
    communication: int
    problem_solving: int
    technical: int
    overall: int
    comments: str
    created_at: datetime
    author_name: str
    subject_name: str
    status: SessionStatus
    scheduled_at: datetime
    hard_end_at: datetime | None
    ended_at: datetime | None
    end_reason: EndReason | None
    subject_has_authored: bool


_WITH_NAMES = select(*FEEDBACK_COLUMNS).select_from(
    feedback.join(_author, _author.c.id == feedback.c.author_id).join(
        _subject, _subject.c.id == feedback.c.subject_id
    )
)
_INSERT = Query(insert(feedback).values(binds_for(list(feedback.c))))
_HAS_AUTHORED = Query(
    select(feedback.c.id).where(
        feedback.c.session_id == bind("session_id"), feedback.c.author_id == bind("author_id")
    )
)


def _for_session(cursor: bool) -> Executable:
    query = (
        _WITH_NAMES.where(feedback.c.session_id == bind("session_id"))
        .order_by(*ORDER)
        .limit(bind("limit"))
    )
    return query.where(after(ORDER)) if cursor else query


_FOR_SESSION = Variants(_for_session, FeedbackRow)


def _received(cursor: bool) -> Executable:
    subject_has_authored = exists(
        select(_own.c.id).where(
            _own.c.session_id == feedback.c.session_id, _own.c.author_id == bind("subject_id")
        )
    ).label("subject_has_authored")
    query = (
        select(*FEEDBACK_COLUMNS, *SESSION_TIME_COLUMNS, subject_has_authored)
        .select_from(
            feedback.join(_author, _author.c.id == feedback.c.author_id)
            .join(_subject, _subject.c.id == feedback.c.subject_id)
            .join(_sessions, _sessions.c.id == feedback.c.session_id)
        )
        .where(feedback.c.subject_id == bind("subject_id"))
        .order_by(feedback.c.created_at.desc(), feedback.c.id.desc())
        .limit(bind("limit"))
    )
    return query.where(after(ORDER, descending=True)) if cursor else query


_RECEIVED = Variants(_received, ReceivedRow)


async def insert_feedback(db: Connection, **values: Any) -> None:
    await db.run(_INSERT, **values)


async def has_authored(db: Connection, *, session_id: str, author_id: str) -> bool:
    found = await db.scalar(_HAS_AUTHORED, session_id=session_id, author_id=author_id)
    return found is not None


async def list_for_session(
    db: Connection, *, session_id: str, cursor: list[Any] | None, limit: int
) -> list[FeedbackRow]:
    """Oldest first; one row more than `limit`, to learn whether another page exists."""
    params: dict[str, Any] = {"session_id": session_id, "limit": limit + 1}
    if cursor is not None:
        params.update(cursor_params(cursor))
    return await db.all(_FOR_SESSION(cursor is not None), **params)


async def list_received(
    db: Connection, *, subject_id: str, cursor: list[Any] | None, limit: int
) -> list[ReceivedRow]:
    """Feedback about `subject_id`, newest first."""
    params: dict[str, Any] = {"subject_id": subject_id, "limit": limit + 1}
    if cursor is not None:
        params.update(cursor_params(cursor))
    return await db.all(_RECEIVED(cursor is not None), **params)
