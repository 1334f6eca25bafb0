"""Feedback between the two participants of a completed session, revealed double-blind."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from peerview.context import Ctx
from peerview.db import IntegrityError
from peerview.events import FeedbackSubmitted
from peerview.feedback import repository
from peerview.feedback.errors import FeedbackExists, SessionNotCompleted
from peerview.feedback.repository import FeedbackRow, ReceivedRow
from peerview.feedback.schemas import (
    AuthorRole,
    FeedbackCreate,
    FeedbackPage,
    FeedbackRead,
    RatingsRead,
    SealedFeedback,
)
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.errors import SessionNotFound
from peerview.interview_sessions.lifecycle import SessionTimes, session_at
from peerview.models.base import new_id
from peerview.models.enums import SessionStatus
from peerview.pagination import decode_cursor, encode_cursor
from peerview.schemas import UserRef

# After this long, each participant sees the other's feedback even without leaving their own.
REVEAL_AFTER = timedelta(hours=72)

Row = TypeVar("Row", FeedbackRow, ReceivedRow)


def is_revealed(
    *,
    viewer_is_admin: bool,
    viewer_is_author: bool,
    viewer_has_authored: bool,
    ended_at: datetime | None,
    now: datetime,
) -> bool:
    """Whether a viewer may read a feedback's content: the double-blind rule of docs/api.md §7."""
    if viewer_is_admin or viewer_is_author or viewer_has_authored:
        return True
    return ended_at is not None and now >= ended_at + REVEAL_AFTER


def to_read(row: FeedbackRow | ReceivedRow) -> FeedbackRead:
    return FeedbackRead(
        id=row.id,
        session_id=row.session_id,
        author=UserRef(id=row.author_id, name=row.author_name),
        subject=UserRef(id=row.subject_id, name=row.subject_name),
        author_role=row.author_role,
        ratings=RatingsRead(
            communication=row.communication,
            problem_solving=row.problem_solving,
            technical=row.technical,
            overall=row.overall,
        ),
        comments=row.comments,
        created_at=row.created_at,
    )


def sealed(row: FeedbackRow | ReceivedRow) -> SealedFeedback:
    return SealedFeedback(id=row.id, author_role=row.author_role, hidden=True)


def _page(
    rows: Sequence[Row], limit: int, shown: Callable[[Row], FeedbackRead | SealedFeedback]
) -> FeedbackPage:
    # The cursor comes from the row, not the item: a sealed item carries no created_at.
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].id)
    return FeedbackPage(items=[shown(r) for r in rows], next_cursor=next_cursor)


async def submit(ctx: Ctx, *, body: FeedbackCreate) -> FeedbackRead:
    db, actor, now = ctx.db, ctx.actor, ctx.now
    row, state = await sessions_service.state_at(
        db=db, actor=actor, session_id=body.session_id, now=now, rules=ctx.rules
    )
    # Admins may read a session's feedback but never write any: only the two people in it.
    # A practice session has one person; its feedback is the AI interviewer's (§13).
    interviewer_id = row.interviewer_id
    if not sessions_service.is_participant(actor, row) or interviewer_id is None:
        raise SessionNotFound()
    if state.status is not SessionStatus.COMPLETED:
        raise SessionNotCompleted(f"The session is {state.status.value}")
    if await repository.has_authored(db, session_id=row.id, author_id=actor.id):
        raise FeedbackExists()
    by_interviewer = actor.id == interviewer_id
    subject_id = row.interviewee_id if by_interviewer else interviewer_id
    names = {interviewer_id: row.interviewer_name or "", row.interviewee_id: row.interviewee_name}
    created = FeedbackRow(
        id=new_id(),
        session_id=row.id,
        author_id=actor.id,
        subject_id=subject_id,
        author_role=AuthorRole.INTERVIEWER if by_interviewer else AuthorRole.INTERVIEWEE,
        communication=body.ratings.communication,
        problem_solving=body.ratings.problem_solving,
        technical=body.ratings.technical,
        overall=body.ratings.overall,
        comments=body.comments,
        created_at=now,
        author_name=names[actor.id],
        subject_name=names[subject_id],
    )
    values: dict[str, Any] = {
        name: getattr(created, name) for name in created.__struct_fields__[:-2]
    }
    try:
        # Unique (session_id, author_id): the backstop when two submissions race past the
        # check above (the 409 rolls the whole transaction back).
        await repository.insert_feedback(db, **values)
    except IntegrityError as exc:
        raise FeedbackExists() from exc
    await ctx.events.publish(
        db,
        FeedbackSubmitted(
            feedback_id=created.id,
            session_id=row.id,
            author_id=actor.id,
            subject_id=created.subject_id,
            at=now,
            session_created_at=row.created_at,
            category=row.category,
            overall=created.overall,
        ),
    )
    return to_read(created)


async def list_for_session(
    ctx: Ctx, *, session_id: str, cursor: str | None, limit: int
) -> FeedbackPage:
    db, actor = ctx.db, ctx.actor
    row, state = await sessions_service.state_at(
        db=db, actor=actor, session_id=session_id, now=ctx.now, rules=ctx.rules
    )
    rows = await repository.list_for_session(
        db, session_id=row.id, cursor=decode_cursor(cursor, datetime, str), limit=limit
    )
    has_authored = await repository.has_authored(db, session_id=row.id, author_id=actor.id)

    def shown(r: FeedbackRow) -> FeedbackRead | SealedFeedback:
        revealed = is_revealed(
            viewer_is_admin=actor.is_admin,
            viewer_is_author=r.author_id == actor.id,
            viewer_has_authored=has_authored,
            ended_at=state.ended_at,
            now=ctx.now,
        )
        return to_read(r) if revealed else sealed(r)

    return _page(rows, limit, shown)


async def list_received(ctx: Ctx, *, cursor: str | None, limit: int) -> FeedbackPage:
    """Feedback about the caller, newest first, each revealed or sealed by the same rule."""
    actor = ctx.actor
    rows = await repository.list_received(
        ctx.db, subject_id=actor.id, cursor=decode_cursor(cursor, datetime, str), limit=limit
    )

    def shown(r: ReceivedRow) -> FeedbackRead | SealedFeedback:
        # Read-time truth: an overdue LIVE session ended at its hard end, sweeper or not.
        times = SessionTimes(
            status=r.status,
            scheduled_at=r.scheduled_at,
            hard_end_at=r.hard_end_at,
            ended_at=r.ended_at,
            end_reason=r.end_reason,
        )
        revealed = is_revealed(
            viewer_is_admin=actor.is_admin,
            viewer_is_author=False,
            viewer_has_authored=r.subject_has_authored,
            ended_at=session_at(times, ctx.now, ctx.rules).ended_at,
            now=ctx.now,
        )
        return to_read(r) if revealed else sealed(r)

    return _page(rows, limit, shown)
