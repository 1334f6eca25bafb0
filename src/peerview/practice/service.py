"""Practice sessions over REST (docs/api.md §13): start one, read it, read its transcript.

A practice session is an interview session of kind PRACTICE (`interview_sessions`), LIVE from
the moment it is created, with the conversation's state beside it (`practice_sessions`). Its
lifecycle is the session's: the interviewee extends and ends it with the session routes, and
time ends it at its hard end like any other. The conversation itself runs over Socket.IO
(`peerview.practice.interviewer`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from peerview.context import Ctx
from peerview.events import PracticeStarted
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions import session_questions
from peerview.interview_sessions.errors import SessionNotFound
from peerview.interview_sessions.schemas import SessionRead
from peerview.models.base import new_id
from peerview.models.enums import PracticeEngine
from peerview.practice import builtin, repository
from peerview.practice.errors import NoQuestionAvailable, PracticeInProgress, PracticeLimitReached
from peerview.practice.repository import MessageRow, PracticeRow
from peerview.practice.schemas import (
    PracticeComment,
    PracticeCreate,
    PracticeFeedbackRead,
    PracticeMessageRead,
    PracticeRatings,
    PracticeRead,
    Transcript,
)
from peerview.questions import service as questions_service


def message_read(row: MessageRow) -> PracticeMessageRead:
    return PracticeMessageRead(
        id=row.id,
        seq=row.seq,
        role=row.role,  # type: ignore[arg-type]
        kind=row.kind,  # type: ignore[arg-type]
        text=row.text,
        source=row.source,
        created_at=row.created_at,
    )


def feedback_read(row: PracticeRow) -> PracticeFeedbackRead | None:
    if row.feedback is None or row.feedback_at is None or row.feedback_source is None:
        return None
    stored: dict[str, Any] = row.feedback
    return PracticeFeedbackRead(
        source=row.feedback_source,
        ratings=PracticeRatings(**stored["ratings"]),
        comments=[PracticeComment(**c) for c in stored["comments"]],
        basis=stored["basis"],
        created_at=row.feedback_at,
    )


def _read(session: SessionRead, row: PracticeRow) -> PracticeRead:
    return PracticeRead(
        session=session,
        engine=row.engine,
        model=row.model,  # stored only for a session a model began
        fallback_reason=row.fallback_reason,  # type: ignore[arg-type]
        token_budget=row.token_budget,
        tokens_used=row.tokens_used,
        hints_total=row.hints_total,
        hints_given=row.hints_given,
        feedback=feedback_read(row),
    )


def _start_of_day(now: datetime) -> datetime:
    return datetime(now.year, now.month, now.day, tzinfo=UTC)


async def create(ctx: Ctx, *, body: PracticeCreate) -> PracticeRead:
    """Start a practice session: LIVE now, its question chosen and revealed.

    The caller's writes run one at a time (peerview.context), so the daily limit and the one
    live practice session per user hold under concurrent calls.
    """
    db, actor, now, settings = ctx.db, ctx.actor, ctx.now, ctx.settings
    today = _start_of_day(now)
    limit = settings.ai_sessions_per_user_per_day
    if await repository.started_since(db, user_id=actor.id, since=today) >= limit:
        wait = (today + timedelta(days=1) - now).total_seconds()
        raise PracticeLimitReached(
            f"At most {limit} practice session(s) a day; the next can start at "
            f"{(today + timedelta(days=1)).isoformat()}",
            retry_after=int(wait) + 1,
        )
    if await repository.live_session_of(db, user_id=actor.id, now=now) is not None:
        raise PracticeInProgress()
    had = await session_questions.had_by(db, interviewee_id=actor.id)
    found = await questions_service.list_candidates(
        db,
        category=body.category,
        difficulty=body.difficulty,
        type=body.type,
        exclude_ids=had,
        limit=1,
    )
    if not found:
        raise NoQuestionAvailable(
            f"No {body.difficulty.value} {body.type.value} question in '{body.category}' "
            "that you have not had yet"
        )
    question = found[0]
    row = await sessions_service.create_practice(
        db=db,
        interviewee=actor,
        category=body.category,
        difficulty=body.difficulty,
        type=body.type,
        duration_minutes=body.duration_minutes,
        now=now,
        rules=ctx.rules,
    )
    snapshot = await session_questions.snapshot_first(
        db, session_id=row.id, question=question, now=now
    )
    model_backed = settings.llm_base_url is not None
    opening = (
        builtin.introduction(
            candidate_name=actor.name,
            duration_minutes=body.duration_minutes,
            model_backed=model_backed,
        ),
        builtin.reveal(
            title=question.title,
            prompt=question.prompt,
            question_type=question.type,
            has_code_pad=True,
        ),
    )
    practice = PracticeRow(
        session_id=row.id,
        interviewee_id=actor.id,
        engine=PracticeEngine.MODEL if model_backed else PracticeEngine.BUILTIN,
        model=settings.llm_model if model_backed else None,
        fallback_reason=None,
        token_budget=settings.ai_max_tokens_per_session,
        tokens_used=0,
        hints_total=len(question.hints),
        hints_given=0,
        follow_ups_given=0,
        last_seq=len(opening),
        question_revealed_at=now,
        first_answer_at=None,
        warned_at=None,
        replying_since=None,
        closed_at=None,
        grading_claimed_at=None,
        feedback_at=None,
        feedback_source=None,
        feedback=None,
        created_at=now,
    )
    await repository.create(db, **msgspec.structs.asdict(practice))
    # The introduction and the question, messages 1 and 2.
    for seq, (kind, text) in enumerate(zip(("intro", "question"), opening, strict=True), 1):
        await repository.insert_message(
            db,
            MessageRow(
                id=new_id(),
                session_id=row.id,
                seq=seq,
                role="interviewer",
                kind=kind,
                text=text,
                source=PracticeEngine.BUILTIN,
                tokens=0,
                created_at=now,
            ),
        )
    await ctx.events.publish(
        db, PracticeStarted(session_id=row.id, interviewee_id=actor.id, at=now)
    )
    session = sessions_service.to_read(
        row,
        now=now,
        rules=ctx.rules,
        questions=[snapshot],
        full_questions=sessions_service.sees_everything(actor, row),
    )
    return _read(session, practice)


async def _visible(ctx: Ctx, session_id: str) -> tuple[SessionRead, PracticeRow]:
    """The practice session as the caller sees it: its interviewee and admins; anyone else,
    and any id that is not a practice session's, 404."""
    session = await sessions_service.view(
        db=ctx.db, actor=ctx.actor, session_id=session_id, now=ctx.now, rules=ctx.rules
    )
    row = await repository.get(ctx.db, session_id)
    if row is None:
        raise SessionNotFound()
    return session, row


async def get(ctx: Ctx, *, session_id: str) -> PracticeRead:
    session, row = await _visible(ctx, session_id)
    return _read(session, row)


async def transcript(ctx: Ctx, *, session_id: str) -> Transcript:
    await _visible(ctx, session_id)
    rows = await repository.transcript(ctx.db, session_id)
    return Transcript(items=[message_read(r) for r in rows])
