"""SQL for practice sessions: the conversation's state, the transcript, and the work due."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import and_, func, insert, or_, select, update

from peerview.db import Connection, Query, bind, binds_for
from peerview.models import InterviewSession, PracticeMessage, PracticeSession
from peerview.models.base import table_of
from peerview.models.enums import PracticeEngine, SessionKind, SessionStatus

practice = table_of(PracticeSession)
messages = table_of(PracticeMessage)
_sessions = table_of(InterviewSession)
_TIME = practice.c.created_at.type
_NOW = bind("now", _TIME)
_ID = bind("session_id")


class PracticeRow(msgspec.Struct, frozen=True):
    session_id: str
    interviewee_id: str
    engine: PracticeEngine
    model: str | None
    fallback_reason: str | None
    token_budget: int
    tokens_used: int
    hints_total: int
    hints_given: int
    follow_ups_given: int
    last_seq: int
    question_revealed_at: datetime
    first_answer_at: datetime | None
    warned_at: datetime | None
    replying_since: datetime | None
    closed_at: datetime | None
    grading_claimed_at: datetime | None
    feedback_at: datetime | None
    feedback_source: PracticeEngine | None
    feedback: dict[str, Any] | None
    created_at: datetime


class MessageRow(msgspec.Struct, frozen=True):
    id: str
    session_id: str
    seq: int
    role: str
    kind: str
    text: str
    source: PracticeEngine | None
    tokens: int
    created_at: datetime


_INSERT = Query(insert(practice).values(binds_for(list(practice.c))))
_INSERT_MESSAGE = Query(insert(messages).values(binds_for(list(messages.c))))
_GET = Query(select(*practice.c).where(practice.c.session_id == _ID), PracticeRow)
_TRANSCRIPT = Query(
    select(*messages.c).where(messages.c.session_id == _ID).order_by(messages.c.seq), MessageRow
)
# The next message number, with the tokens its writing cost: also what serialises one
# session's writers on PostgreSQL.
_NEXT_SEQ = Query(
    update(practice)
    .where(practice.c.session_id == _ID)
    .values(last_seq=practice.c.last_seq + 1, tokens_used=practice.c.tokens_used + bind("tokens"))
    .returning(practice.c.last_seq)
)
_STARTED_SINCE = Query(
    select(func.count()).where(
        practice.c.interviewee_id == bind("user_id"), practice.c.created_at >= bind("since", _TIME)
    )
)
# A practice session of the user that is LIVE now (read-time truth: before its hard end).
_LIVE_OF = Query(
    select(_sessions.c.id)
    .where(
        _sessions.c.interviewee_id == bind("user_id"),
        _sessions.c.kind == SessionKind.PRACTICE,
        _sessions.c.status == SessionStatus.LIVE,
        _sessions.c.hard_end_at > _NOW,
    )
    .limit(1)
)


def _claim_reply(answer: bool) -> Query[tuple[Any, ...]]:
    """One reply at a time per session, whichever process (a claim older than `stale` is void:
    its process died mid-reply), claimed by the session's interviewee with the number of the
    message that asks for it; an answer (not a hint request) may be the first."""
    values: dict[str, Any] = {"replying_since": _NOW, "last_seq": practice.c.last_seq + 1}
    if answer:
        values["first_answer_at"] = func.coalesce(practice.c.first_answer_at, _NOW)
    return Query(
        update(practice)
        .where(
            practice.c.session_id == _ID,
            practice.c.interviewee_id == bind("user_id"),
            or_(
                practice.c.replying_since.is_(None),
                practice.c.replying_since <= bind("stale", _TIME),
            ),
        )
        .values(values)
        .returning(practice.c.last_seq)
    )


_CLAIM_REPLY = {answer: _claim_reply(answer) for answer in (False, True)}
_RELEASE_REPLY = Query(
    update(practice).where(practice.c.session_id == _ID).values(replying_since=None)
)
_NEXT_HINT = Query(
    update(practice)
    .where(
        practice.c.session_id == _ID,
        practice.c.hints_given == bind("given"),
        practice.c.hints_given < practice.c.hints_total,
    )
    .values(hints_given=practice.c.hints_given + 1)
)
_FOLLOWED_UP = Query(
    update(practice)
    .where(practice.c.session_id == _ID)
    .values(follow_ups_given=practice.c.follow_ups_given + 1)
)
_FALL_BACK = Query(
    update(practice)
    .where(practice.c.session_id == _ID, practice.c.engine == PracticeEngine.MODEL)
    .values(engine=PracticeEngine.BUILTIN, fallback_reason=bind("reason"))
)
_WARN = Query(
    update(practice)
    .where(practice.c.session_id == _ID, practice.c.warned_at.is_(None))
    .values(warned_at=_NOW)
)
_CLOSE = Query(
    update(practice)
    .where(practice.c.session_id == _ID, practice.c.closed_at.is_(None))
    .values(closed_at=_NOW)
)
_CLAIM_GRADING = Query(
    update(practice)
    .where(
        practice.c.session_id == _ID,
        practice.c.feedback_at.is_(None),
        or_(
            practice.c.grading_claimed_at.is_(None),
            practice.c.grading_claimed_at <= bind("stale", _TIME),
        ),
    )
    .values(grading_claimed_at=_NOW)
)
_STORE_FEEDBACK = Query(
    update(practice)
    .where(practice.c.session_id == _ID, practice.c.feedback_at.is_(None))
    .values(
        feedback_at=_NOW,
        feedback_source=bind("source", practice.c.feedback_source.type),
        feedback=bind("feedback", practice.c.feedback.type),
        tokens_used=practice.c.tokens_used + bind("tokens"),
    )
)
_LIVE = and_(_sessions.c.status == SessionStatus.LIVE, _sessions.c.hard_end_at > _NOW)
_DUE_WARNINGS = Query(
    select(practice.c.session_id)
    .select_from(practice.join(_sessions, _sessions.c.id == practice.c.session_id))
    .where(
        practice.c.warned_at.is_(None),
        _LIVE,
        _sessions.c.planned_end_at <= bind("warn_before", _TIME),
    )
    .order_by(_sessions.c.planned_end_at)
    .limit(bind("batch"))
)
_DUE_GRADING = Query(
    select(practice.c.session_id)
    .select_from(practice.join(_sessions, _sessions.c.id == practice.c.session_id))
    .where(
        practice.c.feedback_at.is_(None),
        or_(
            practice.c.grading_claimed_at.is_(None),
            practice.c.grading_claimed_at <= bind("stale", _TIME),
        ),
        or_(
            _sessions.c.status == SessionStatus.COMPLETED,
            and_(_sessions.c.status == SessionStatus.LIVE, _sessions.c.hard_end_at <= _NOW),
        ),
    )
    .order_by(practice.c.created_at)
    .limit(bind("batch"))
)


async def create(db: Connection, **values: Any) -> None:
    await db.run(_INSERT, **values)


async def get(db: Connection, session_id: str) -> PracticeRow | None:
    return await db.one(_GET, session_id=session_id)


async def transcript(db: Connection, session_id: str) -> list[MessageRow]:
    return await db.all(_TRANSCRIPT, session_id=session_id)


async def append_message(db: Connection, **values: Any) -> MessageRow:
    """Store a message under the session's next number, adding the tokens it cost to the
    session's; the row as stored."""
    seq = await db.scalar(_NEXT_SEQ, session_id=values["session_id"], tokens=values["tokens"])
    assert seq is not None, "no practice row"
    return await insert_message(db, MessageRow(seq=int(seq), **values))


async def insert_message(db: Connection, row: MessageRow) -> MessageRow:
    """Store a message whose number was already taken (`claim_reply`)."""
    await db.run(_INSERT_MESSAGE, **msgspec.structs.asdict(row))
    return row


async def started_since(db: Connection, *, user_id: str, since: datetime) -> int:
    return int(await db.scalar(_STARTED_SINCE, user_id=user_id, since=since))


async def live_session_of(db: Connection, *, user_id: str, now: datetime) -> str | None:
    found = await db.scalar(_LIVE_OF, user_id=user_id, now=now)
    return None if found is None else str(found)


async def claim_reply(
    db: Connection, *, session_id: str, user_id: str, now: datetime, stale: datetime, answer: bool
) -> int | None:
    """The number of the interviewee's message that claims the session's next reply; None
    when the session is not theirs or a reply is being written."""
    seq = await db.scalar(
        _CLAIM_REPLY[answer], session_id=session_id, user_id=user_id, now=now, stale=stale
    )
    return None if seq is None else int(seq)


async def release_reply(db: Connection, *, session_id: str) -> None:
    await db.run(_RELEASE_REPLY, session_id=session_id)


async def next_hint(db: Connection, *, session_id: str, given: int) -> bool:
    """Count one more hint given, if `given` were given so far and some remain."""
    return await db.run(_NEXT_HINT, session_id=session_id, given=given) == 1


async def followed_up(db: Connection, *, session_id: str) -> None:
    await db.run(_FOLLOWED_UP, session_id=session_id)


async def fall_back(db: Connection, *, session_id: str, reason: str) -> bool:
    """MODEL → BUILTIN, once: whether this call made the change."""
    return await db.run(_FALL_BACK, session_id=session_id, reason=reason) == 1


async def warn(db: Connection, *, session_id: str, now: datetime) -> bool:
    return await db.run(_WARN, session_id=session_id, now=now) == 1


async def close(db: Connection, *, session_id: str, now: datetime) -> bool:
    return await db.run(_CLOSE, session_id=session_id, now=now) == 1


async def claim_grading(db: Connection, *, session_id: str, now: datetime, stale: datetime) -> bool:
    return await db.run(_CLAIM_GRADING, session_id=session_id, now=now, stale=stale) == 1


async def store_feedback(
    db: Connection,
    *,
    session_id: str,
    now: datetime,
    source: str,
    feedback: dict[str, Any],
    tokens: int,
) -> bool:
    """Store the feedback, once, with the tokens its grading cost."""
    changed = await db.run(
        _STORE_FEEDBACK,
        session_id=session_id,
        now=now,
        source=source,
        feedback=feedback,
        tokens=tokens,
    )
    return changed == 1


async def due_warnings(
    db: Connection, *, now: datetime, warn_before: datetime, batch: int
) -> list[str]:
    rows = await db.all(_DUE_WARNINGS, now=now, warn_before=warn_before, batch=batch)
    return [row[0] for row in rows]


async def due_grading(db: Connection, *, now: datetime, stale: datetime, batch: int) -> list[str]:
    rows = await db.all(_DUE_GRADING, now=now, stale=stale, batch=batch)
    return [row[0] for row in rows]
