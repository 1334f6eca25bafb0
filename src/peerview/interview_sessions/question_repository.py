"""SQL for the questions of a session: snapshots, positions, and what an interviewee has had."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, insert, select

from peerview.db import Connection, Query, bind, binds_for
from peerview.interview_sessions.repository import QUESTION_COLUMNS, QuestionRow
from peerview.models import InterviewSession, SessionQuestion
from peerview.models.base import table_of

_sessions = table_of(InterviewSession)
session_questions = table_of(SessionQuestion)

_LOCK_SESSION = Query(
    select(_sessions.c.id).where(_sessions.c.id == bind("session_id")).with_for_update()
)
_LIST = Query(
    select(*QUESTION_COLUMNS)
    .where(session_questions.c.session_id == bind("session_id"))
    .order_by(session_questions.c.position),
    QuestionRow,
)
_CONTAINS = Query(
    select(session_questions.c.id).where(
        session_questions.c.session_id == bind("session_id"),
        session_questions.c.question_id == bind("question_id"),
    )
)
_NEXT_POSITION = Query(
    select(func.coalesce(func.max(session_questions.c.position), 0) + 1).where(
        session_questions.c.session_id == bind("session_id")
    )
)
_INSERT = Query(
    insert(session_questions)
    .values(binds_for(list(session_questions.c)))
    .returning(*QUESTION_COLUMNS),
    QuestionRow,
)
_DELETE = Query(
    delete(session_questions).where(
        session_questions.c.session_id == bind("session_id"),
        session_questions.c.question_id == bind("question_id"),
    )
)
_HAD_BY = Query(
    select(session_questions.c.question_id)
    .distinct()
    .select_from(
        session_questions.join(_sessions, _sessions.c.id == session_questions.c.session_id)
    )
    .where(_sessions.c.interviewee_id == bind("interviewee_id"))
)


async def lock_session(db: Connection, session_id: str) -> None:
    """Hold the session row until commit, so that its state and positions stay put meanwhile.

    On PostgreSQL a lifecycle change (end, cancel, the sweeper) then waits for this
    transaction instead of finishing between our state check and our write, and two
    additions cannot compute the same next position. SQLite needs nothing: its write
    transactions already run one at a time (BEGIN IMMEDIATE).
    """
    if db.dialect == "postgresql":
        await db.run(_LOCK_SESSION, session_id=session_id)


async def list_for_session(db: Connection, session_id: str) -> list[QuestionRow]:
    return await db.all(_LIST, session_id=session_id)


async def contains(db: Connection, *, session_id: str, question_id: str) -> bool:
    found = await db.scalar(_CONTAINS, session_id=session_id, question_id=question_id)
    return found is not None


async def next_position(db: Connection, session_id: str) -> int:
    """One past the highest position present: later additions always come after earlier ones."""
    return int(await db.scalar(_NEXT_POSITION, session_id=session_id))


async def insert_snapshot(
    db: Connection,
    *,
    id: str,
    session_id: str,
    question_id: str,
    position: int,
    title: str,
    prompt: str,
    hints: list[str],
    solution: str,
    added_at: datetime,
) -> QuestionRow:
    row = await db.one(
        _INSERT,
        id=id,
        session_id=session_id,
        question_id=question_id,
        position=position,
        title=title,
        prompt=prompt,
        hints=hints,
        solution=solution,
        added_at=added_at,
    )
    assert row is not None
    return row


async def delete_from_session(db: Connection, *, session_id: str, question_id: str) -> bool:
    return await db.run(_DELETE, session_id=session_id, question_id=question_id) == 1


async def question_ids_had_by(db: Connection, *, interviewee_id: str) -> list[str]:
    """Every bank question in any session of this interviewee, whatever its state."""
    rows = await db.all(_HAD_BY, interviewee_id=interviewee_id)
    return [row[0] for row in rows]
