"""Session questions: snapshots of bank questions that a session's interviewer adds or removes.

Every change is announced (`SessionChanged` "questions"): once it commits, both participants'
sockets get the session again (docs/api.md §8.3).
"""

from __future__ import annotations

from datetime import datetime

from peerview.context import Ctx
from peerview.db import Connection, IntegrityError
from peerview.errors import Conflict
from peerview.interview_sessions import question_repository
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.errors import InvalidSessionState, NotSessionInterviewer
from peerview.interview_sessions.lifecycle import SessionTimes, session_at
from peerview.interview_sessions.repository import QuestionRow, SessionRow
from peerview.interview_sessions.schemas import SessionQuestionRead
from peerview.models.base import new_id
from peerview.models.enums import SessionStatus
from peerview.questions import service as questions_service
from peerview.questions.errors import QuestionNotFound
from peerview.questions.repository import QuestionRow as BankQuestion

# Questions change only while the session is still ahead or running. A CANCELLED session
# is as finished as a COMPLETED one: its question list is history too.
EDITABLE = frozenset({SessionStatus.SCHEDULED, SessionStatus.LIVE})


class QuestionAlreadyAdded(Conflict):
    code = "QUESTION_ALREADY_ADDED"
    title = "This question is already part of the session"


def _read(row: QuestionRow) -> SessionQuestionRead:
    return SessionQuestionRead(
        question_id=row.question_id,
        position=row.position,
        title=row.title,
        prompt=row.prompt,
        added_at=row.added_at,
        hints=list(row.hints),
        solution=row.solution,
    )


async def _load_for_interviewer(ctx: Ctx, *, session_id: str) -> tuple[SessionRow, SessionTimes]:
    """The session and its state at `now`, for its interviewer only (docs/api.md §1 order)."""
    await question_repository.lock_session(ctx.db, session_id)
    # Admins may view a session but not act in it, as for every other session action:
    # to them, as to anyone outside the session, it does not exist here.
    row = await sessions_service.load_visible(
        db=ctx.db, actor=ctx.actor, session_id=session_id, admin_may_see=False
    )
    if ctx.actor.id != row.interviewer_id:
        raise NotSessionInterviewer()
    return row, session_at(sessions_service.times_of(row), ctx.now, ctx.rules)


def _refuse_if_finished(state: SessionTimes) -> None:
    if state.status not in EDITABLE:
        raise InvalidSessionState(
            f"The session is {state.status.value}; its questions can no longer change"
        )


async def _insert_snapshot(
    ctx: Ctx, *, session_id: str, question: BankQuestion
) -> QuestionRow | None:
    """Copy the bank question into the session; None if the database refused the row."""
    db = ctx.db
    try:
        # Unique (session_id, question_id) is the backstop against a concurrent add of the
        # same question; the savepoint keeps the rest of the transaction usable.
        async with db.savepoint():
            return await question_repository.insert_snapshot(
                db,
                id=new_id(),
                session_id=session_id,
                question_id=question.id,
                position=await question_repository.next_position(db, session_id),
                title=question.title,
                prompt=question.prompt,
                hints=list(question.hints),
                solution=question.solution,
                added_at=ctx.now,
            )
    except IntegrityError:
        return None


async def add(ctx: Ctx, *, session_id: str, question_id: str) -> SessionQuestionRead:
    row, state = await _load_for_interviewer(ctx, session_id=session_id)
    question = await questions_service.get_active(ctx.db, question_id)
    if question is None:
        raise QuestionNotFound()
    _refuse_if_finished(state)
    db = ctx.db
    if await question_repository.contains(db, session_id=session_id, question_id=question_id):
        raise QuestionAlreadyAdded()
    snapshot = await _insert_snapshot(ctx, session_id=session_id, question=question)
    if snapshot is None:
        if await question_repository.contains(db, session_id=session_id, question_id=question_id):
            raise QuestionAlreadyAdded()
        # The only other refusal is the foreign key: the question was purged meanwhile.
        raise QuestionNotFound()
    await sessions_service.questions_changed(ctx, row=row)
    return _read(snapshot)


async def suggest(ctx: Ctx, *, session_id: str, count: int) -> list[SessionQuestionRead]:
    """Add up to `count` matching questions the interviewee has never had; the whole list.

    "Had" means present in any session of theirs, this one included and whatever that
    session's state: an interviewee sees a session's titles and prompts as soon as they
    are added, so even a cancelled session's questions are no longer fresh to them.
    Candidates come oldest first, the bank's own order, so suggestions are predictable.
    """
    row, state = await _load_for_interviewer(ctx, session_id=session_id)
    _refuse_if_finished(state)
    db = ctx.db
    had = await question_repository.question_ids_had_by(db, interviewee_id=row.interviewee_id)
    candidates = await questions_service.list_candidates(
        db,
        category=row.category,
        difficulty=row.difficulty,
        type=row.type,
        exclude_ids=had,
        limit=count,
    )
    added = False
    for question in candidates:
        # A refusal here can only be a concurrent add of the same question: it is in the
        # list either way, so the suggestion simply moves on.
        if await _insert_snapshot(ctx, session_id=session_id, question=question) is not None:
            added = True
    if added:  # a suggestion that found nothing new changed nothing: nobody is told
        await sessions_service.questions_changed(ctx, row=row)
    rows = await question_repository.list_for_session(db, session_id)
    return [_read(r) for r in rows]


async def remove(ctx: Ctx, *, session_id: str, question_id: str) -> None:
    """Remove a question before the session is over; later positions keep their numbers."""
    row, state = await _load_for_interviewer(ctx, session_id=session_id)
    db = ctx.db
    if not await question_repository.contains(db, session_id=session_id, question_id=question_id):
        raise QuestionNotFound("The question is not part of this session")
    _refuse_if_finished(state)
    removed = await question_repository.delete_from_session(
        db, session_id=session_id, question_id=question_id
    )
    if not removed:
        raise QuestionNotFound("The question is not part of this session")
    await sessions_service.questions_changed(ctx, row=row)


async def had_by(db: Connection, *, interviewee_id: str) -> list[str]:
    """Every bank question in any session of this interviewee, whatever its state (what
    `suggest` leaves out, and a practice session's choice too)."""
    return await question_repository.question_ids_had_by(db, interviewee_id=interviewee_id)


async def snapshot_first(
    db: Connection, *, session_id: str, question: BankQuestion, now: datetime
) -> QuestionRow:
    """Copy `question` into a session just created (a practice session's one question)."""
    return await question_repository.insert_snapshot(
        db,
        id=new_id(),
        session_id=session_id,
        question_id=question.id,
        position=1,
        title=question.title,
        prompt=question.prompt,
        hints=list(question.hints),
        solution=question.solution,
        added_at=now,
    )
