"""SQL for feedback, with the names of author and subject and the times of its session."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, insert, select
from sqlalchemy.sql import Select

from peerview.db import Connection, RowMapping
from peerview.models import Feedback, InterviewSession, User
from peerview.models.base import table_of
from peerview.pagination import after

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


def _with_names() -> Select[Any]:
    return select(*FEEDBACK_COLUMNS).select_from(
        feedback.join(_author, _author.c.id == feedback.c.author_id).join(
            _subject, _subject.c.id == feedback.c.subject_id
        )
    )


async def insert_feedback(db: Connection, values: dict[str, Any]) -> None:
    await db.execute(insert(feedback).values(**values))


async def has_authored(db: Connection, *, session_id: str, author_id: str) -> bool:
    result = await db.execute(
        select(feedback.c.id).where(
            feedback.c.session_id == session_id, feedback.c.author_id == author_id
        )
    )
    return result.first() is not None


async def list_for_session(
    db: Connection, *, session_id: str, cursor: list[Any] | None, limit: int
) -> list[RowMapping]:
    """Oldest first; one row more than `limit`, to learn whether another page exists."""
    query = (
        _with_names().where(feedback.c.session_id == session_id).order_by(*ORDER).limit(limit + 1)
    )
    if cursor is not None:
        query = query.where(after(ORDER, cursor))
    result = await db.execute(query)
    return list(result.mappings().all())


async def list_received(
    db: Connection, *, subject_id: str, cursor: list[Any] | None, limit: int
) -> list[RowMapping]:
    """Feedback about `subject_id`, newest first, each with its session's times and whether
    the subject has left their own feedback in that session (`subject_has_authored`)."""
    subject_has_authored = exists(
        select(_own.c.id).where(
            _own.c.session_id == feedback.c.session_id, _own.c.author_id == subject_id
        )
    ).label("subject_has_authored")
    query = (
        select(*FEEDBACK_COLUMNS, *SESSION_TIME_COLUMNS, subject_has_authored)
        .select_from(
            feedback.join(_author, _author.c.id == feedback.c.author_id)
            .join(_subject, _subject.c.id == feedback.c.subject_id)
            .join(_sessions, _sessions.c.id == feedback.c.session_id)
        )
        .where(feedback.c.subject_id == subject_id)
        .order_by(feedback.c.created_at.desc(), feedback.c.id.desc())
        .limit(limit + 1)
    )
    if cursor is not None:
        query = query.where(after(ORDER, cursor, descending=True))
    result = await db.execute(query)
    return list(result.mappings().all())
