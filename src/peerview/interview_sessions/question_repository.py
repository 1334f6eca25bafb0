"""SQL for the questions of a session: snapshots, positions, and what an interviewee has had."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, insert, select

from peerview.db import Connection, RowMapping
from peerview.models import InterviewSession, SessionQuestion
from peerview.models.base import table_of

_sessions = table_of(InterviewSession)
session_questions = table_of(SessionQuestion)

SNAPSHOT_COLUMNS = (
    session_questions.c.question_id,
    session_questions.c.position,
    session_questions.c.title,
    session_questions.c.prompt,
    session_questions.c.hints,
    session_questions.c.solution,
    session_questions.c.added_at,
)


async def lock_session(db: Connection, session_id: str) -> None:
    """Hold the session row until commit, so that its state and positions stay put meanwhile.

    On PostgreSQL a lifecycle change (end, cancel, the sweeper) then waits for this
    transaction instead of finishing between our state check and our write, and two
    additions cannot compute the same next position. SQLite needs nothing: its write
    transactions already run one at a time (BEGIN IMMEDIATE).
    """
    if db.dialect != "postgresql":
        return
    await db.execute(select(_sessions.c.id).where(_sessions.c.id == session_id).with_for_update())


async def list_for_session(db: Connection, session_id: str) -> list[RowMapping]:
    result = await db.execute(
        select(*SNAPSHOT_COLUMNS)
        .where(session_questions.c.session_id == session_id)
        .order_by(session_questions.c.position)
    )
    return list(result.mappings().all())


async def contains(db: Connection, *, session_id: str, question_id: str) -> bool:
    result = await db.execute(
        select(session_questions.c.id).where(
            session_questions.c.session_id == session_id,
            session_questions.c.question_id == question_id,
        )
    )
    return result.first() is not None


async def next_position(db: Connection, session_id: str) -> int:
    """One past the highest position present: later additions always come after earlier ones."""
    result = await db.execute(
        select(func.coalesce(func.max(session_questions.c.position), 0)).where(
            session_questions.c.session_id == session_id
        )
    )
    return int(result.scalar_one()) + 1


async def insert_snapshot(db: Connection, values: dict[str, Any]) -> RowMapping:
    result = await db.execute(
        insert(session_questions).values(**values).returning(*SNAPSHOT_COLUMNS)
    )
    return result.mappings().one()


async def delete_from_session(db: Connection, *, session_id: str, question_id: str) -> bool:
    result = await db.execute(
        delete(session_questions).where(
            session_questions.c.session_id == session_id,
            session_questions.c.question_id == question_id,
        )
    )
    return result.rowcount == 1


async def question_ids_had_by(db: Connection, *, interviewee_id: str) -> list[str]:
    """Every bank question in any session of this interviewee, whatever its state."""
    result = await db.execute(
        select(session_questions.c.question_id)
        .distinct()
        .select_from(
            session_questions.join(_sessions, _sessions.c.id == session_questions.c.session_id)
        )
        .where(_sessions.c.interviewee_id == interviewee_id)
    )
    return list(result.scalars().all())
