"""Interview sessions: reading them as they are at `now`, and every lifecycle action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec

from peerview.actor import Actor
from peerview.context import Ctx
from peerview.db import Connection
from peerview.events import EventBus, SessionChanged
from peerview.interview_requests.repository import RequestRow
from peerview.interview_sessions import realtime_info, repository
from peerview.interview_sessions.errors import (
    ExtensionLimit,
    InvalidSessionState,
    NotSessionInterviewer,
    SessionNotFound,
    TooEarly,
)
from peerview.interview_sessions.lifecycle import (
    JOINABLE,
    MAX_EXTENSION_MINUTES,
    TRANSITIONS,
    Action,
    SessionTimes,
    TimeRules,
    can_start_at,
    end_times,
    session_at,
)
from peerview.interview_sessions.repository import QuestionRow, SessionRow, Transitioned
from peerview.interview_sessions.schemas import (
    JoinRead,
    SessionQuestionBrief,
    SessionQuestionRead,
    SessionRead,
)
from peerview.models.base import new_id
from peerview.models.enums import (
    Difficulty,
    EndReason,
    QuestionType,
    Role,
    SessionKind,
    SessionStatus,
)
from peerview.pagination import decode_cursor, page_of
from peerview.schemas import Page, UserRef


def times_of(row: SessionRow) -> SessionTimes:
    return SessionTimes(
        status=row.status,
        scheduled_at=row.scheduled_at,
        hard_end_at=row.hard_end_at,
        ended_at=row.ended_at,
        end_reason=row.end_reason,
    )


def sees_everything(actor: Actor, row: SessionRow) -> bool:
    """The interviewer and admins see hints and solutions; the interviewee does not."""
    return actor.role is Role.ADMIN or actor.id == row.interviewer_id


def question_read(row: QuestionRow, *, full: bool) -> SessionQuestionRead | SessionQuestionBrief:
    if full:
        return SessionQuestionRead(
            question_id=row.question_id,
            position=row.position,
            title=row.title,
            prompt=row.prompt,
            added_at=row.added_at,
            hints=list(row.hints),
            solution=row.solution,
        )
    return SessionQuestionBrief(
        question_id=row.question_id,
        position=row.position,
        title=row.title,
        prompt=row.prompt,
        added_at=row.added_at,
    )


def to_read(
    row: SessionRow,
    *,
    now: datetime,
    rules: TimeRules,
    questions: list[QuestionRow],
    full_questions: bool,
) -> SessionRead:
    """The session as it is at `now` (read-time truth), shaped for the viewer."""
    state = session_at(times_of(row), now, rules)
    return SessionRead(
        id=row.id,
        kind=row.kind,
        request_id=row.request_id,
        interviewer=None
        if row.interviewer_id is None
        else UserRef(id=row.interviewer_id, name=row.interviewer_name or ""),
        interviewee=UserRef(id=row.interviewee_id, name=row.interviewee_name),
        category=row.category,
        difficulty=row.difficulty,
        type=row.type,
        status=state.status,
        scheduled_at=row.scheduled_at,
        duration_minutes=row.duration_minutes,
        started_at=row.started_at,
        planned_end_at=row.planned_end_at,
        hard_end_at=row.hard_end_at,
        ended_at=state.ended_at,
        end_reason=state.end_reason,
        extended_minutes=row.extended_minutes,
        interviewee_joined_at=row.interviewee_joined_at,
        questions=[question_read(q, full=full_questions) for q in questions],
    )


def is_participant(actor: Actor, row: SessionRow) -> bool:
    return actor.id in (row.interviewer_id, row.interviewee_id)


async def load_visible(
    *, db: Connection, actor: Actor, session_id: str, admin_may_see: bool = True
) -> SessionRow:
    """The session row if the caller may see it; otherwise indistinguishable from missing."""
    row = await repository.get(db, session_id)
    if row is None:
        raise SessionNotFound()
    if is_participant(actor, row) or (admin_may_see and actor.role is Role.ADMIN):
        return row
    raise SessionNotFound()


async def read(
    *, db: Connection, actor: Actor, row: SessionRow, now: datetime, rules: TimeRules
) -> SessionRead:
    """The session of `row` as `actor` sees it, questions included."""
    questions = await repository.questions_of_one(db, row.id)
    return to_read(
        row, now=now, rules=rules, questions=questions, full_questions=sees_everything(actor, row)
    )


async def view(
    *, db: Connection, actor: Actor, session_id: str, now: datetime, rules: TimeRules
) -> SessionRead:
    """A session as `actor` sees it, if they may (for pushes and e-mails as well)."""
    found = await repository.get_with_questions(db, session_id)
    if found is None:
        raise SessionNotFound()
    row, questions = found
    if not (is_participant(actor, row) or actor.role is Role.ADMIN):
        raise SessionNotFound()
    return to_read(
        row, now=now, rules=rules, questions=questions, full_questions=sees_everything(actor, row)
    )


async def get(ctx: Ctx, *, session_id: str) -> SessionRead:
    return await view(
        db=ctx.db, actor=ctx.actor, session_id=session_id, now=ctx.now, rules=ctx.rules
    )


async def state_at(
    *, db: Connection, actor: Actor, session_id: str, now: datetime, rules: TimeRules
) -> tuple[SessionRow, SessionTimes]:
    """A session visible to the caller and its state at `now`, for other features' rules."""
    row = await load_visible(db=db, actor=actor, session_id=session_id)
    return row, session_at(times_of(row), now, rules)


async def list_mine(
    ctx: Ctx, *, status: SessionStatus | None, cursor: str | None, limit: int
) -> Page[SessionRead]:
    rows = await repository.list_for_user(
        ctx.db,
        user_id=ctx.actor.id,
        status=status,
        now=ctx.now,
        rules=ctx.rules,
        cursor=decode_cursor(cursor, datetime, str),
        limit=limit,
    )
    # One query for every listed session's questions (rows holds one extra, to learn
    # whether another page exists; page_of drops it).
    questions = await repository.questions_of(ctx.db, [r.id for r in rows[:limit]])
    items = [
        to_read(
            r,
            now=ctx.now,
            rules=ctx.rules,
            questions=questions.get(r.id, []),
            full_questions=sees_everything(ctx.actor, r),
        )
        for r in rows
    ]
    return page_of(items, limit, lambda s: (s.scheduled_at, s.id))


async def _insert(db: Connection, row: SessionRow) -> SessionRow:
    """Store a new session's row (every column but the names joined from users)."""
    stored = {name: getattr(row, name) for name in row.__struct_fields__[:-2]}
    await repository.insert_session(db, **stored)
    return row


async def create_for_request(
    *, db: Connection, request: RequestRow, interviewer: Actor, now: datetime
) -> SessionRow:
    """Create the SCHEDULED session of a just-accepted request (same transaction); the row
    as stored."""
    row = SessionRow(
        id=new_id(),
        kind=SessionKind.PEER,
        request_id=request.id,
        interviewer_id=interviewer.id,
        interviewee_id=request.interviewee_id,
        category=request.category,
        difficulty=request.difficulty,
        type=request.type,
        status=SessionStatus.SCHEDULED,
        scheduled_at=request.scheduled_at,
        duration_minutes=request.duration_minutes,
        scheduled_end_at=request.scheduled_at + timedelta(minutes=request.duration_minutes),
        started_at=None,
        planned_end_at=None,
        hard_end_at=None,
        ended_at=None,
        end_reason=None,
        cancel_reason=None,
        extended_minutes=0,
        interviewee_joined_at=None,
        version=0,
        created_at=now,
        updated_at=now,
        interviewer_name=interviewer.name,
        interviewee_name=request.interviewee_name,
    )
    return await _insert(db, row)


async def create_practice(
    *,
    db: Connection,
    interviewee: Actor,
    category: str,
    difficulty: Difficulty,
    type: QuestionType,
    duration_minutes: int,
    now: datetime,
    rules: TimeRules,
) -> SessionRow:
    """Create a practice session, LIVE at once (docs/api.md §13): no request, no human
    interviewer; its interviewee conducts it. The row as stored."""
    planned, hard = end_times(
        started_at=now, duration_minutes=duration_minutes, extended_minutes=0, rules=rules
    )
    row = SessionRow(
        id=new_id(),
        kind=SessionKind.PRACTICE,
        request_id=None,
        interviewer_id=None,
        interviewee_id=interviewee.id,
        category=category,
        difficulty=difficulty,
        type=type,
        status=SessionStatus.LIVE,
        scheduled_at=now,
        duration_minutes=duration_minutes,
        scheduled_end_at=now + timedelta(minutes=duration_minutes),
        started_at=now,
        planned_end_at=planned,
        hard_end_at=hard,
        ended_at=None,
        end_reason=None,
        cancel_reason=None,
        extended_minutes=0,
        interviewee_joined_at=None,
        version=0,
        created_at=now,
        updated_at=now,
        interviewer_name=None,
        interviewee_name=interviewee.name,
    )
    return await _insert(db, row)


async def interviewer_is_busy(
    *,
    db: Connection,
    interviewer_id: str,
    start: datetime,
    duration_minutes: int,
    now: datetime,
    rules: TimeRules,
) -> bool:
    return await repository.interviewer_has_conflict(
        db,
        interviewer_id=interviewer_id,
        start=start,
        end=start + timedelta(minutes=duration_minutes),
        now=now,
        rules=rules,
    )


async def _apply(
    ctx: Ctx, *, row: SessionRow, action: Action, values: dict[str, Any]
) -> SessionRow | None:
    """The one door for lifecycle actions: declared transition, conditional update, event.

    The row as it now is; None when its version moved since it was read (another action
    committed first).
    """
    transition = TRANSITIONS[action]
    if transition.source is not transition.target:
        values = {**values, "status": transition.target}
    changed = await repository.update_if(
        ctx.db,
        session_id=row.id,
        expected=transition.source,
        version=row.version,
        now=ctx.now,
        rules=ctx.rules,
        values=values,
    )
    if not changed:
        return None
    await ctx.events.publish(
        ctx.db,
        SessionChanged(
            event=transition.event,
            session_id=row.id,
            interviewer_id=row.interviewer_id,
            interviewee_id=row.interviewee_id,
            end_reason=values.get("end_reason"),
            actor_id=ctx.actor.id,
            at=ctx.now,
            created_at=row.created_at,
            practice=row.practice,
        ),
    )
    return msgspec.structs.replace(row, **values, version=row.version + 1, updated_at=ctx.now)


async def questions_changed(ctx: Ctx, *, row: SessionRow) -> None:
    """Announce that the session's question list changed (in the transaction that changed it):
    once committed, both participants get the session again (docs/api.md §8.3)."""
    await ctx.events.publish(
        ctx.db,
        SessionChanged(
            event="questions",
            session_id=row.id,
            interviewer_id=row.interviewer_id,
            interviewee_id=row.interviewee_id,
            end_reason=None,
            actor_id=ctx.actor.id,
            at=ctx.now,
            created_at=row.created_at,
            practice=row.practice,
        ),
    )


async def _act(ctx: Ctx, *, session_id: str, action: Action) -> SessionRow:
    """Visibility, then who may act, then state: the order of docs/api.md §1."""
    row = await load_visible(db=ctx.db, actor=ctx.actor, session_id=session_id, admin_may_see=False)
    transition = TRANSITIONS[action]
    if transition.who == "interviewer" and ctx.actor.id != row.conductor_id:
        raise NotSessionInterviewer()
    state = session_at(times_of(row), ctx.now, ctx.rules)
    if state.status is not transition.source:
        raise InvalidSessionState(
            f"The session is {state.status.value}; {action.value} needs {transition.source.value}"
        )
    return row


# An action that lost the version check to a concurrent one is judged again on the row as it
# now is (each statement of a READ COMMITTED transaction sees what has committed): concurrent
# extensions all get their answer on the merits, not a 409 a retry would turn into a 200. Each
# lost attempt means another action committed, so the loop always progresses.
MAX_ATTEMPTS = 16


async def _perform(
    ctx: Ctx,
    *,
    session_id: str,
    action: Action,
    changes: Callable[[SessionRow], dict[str, Any]],
) -> SessionRead:
    """Check, apply and re-read one lifecycle action; `changes` gives its column values
    (and may refuse with the action's own rule)."""
    for _ in range(MAX_ATTEMPTS):
        row = await _act(ctx, session_id=session_id, action=action)
        updated = await _apply(ctx, row=row, action=action, values=changes(row))
        if updated is not None:
            return await read(db=ctx.db, actor=ctx.actor, row=updated, now=ctx.now, rules=ctx.rules)
    raise InvalidSessionState("The session changed meanwhile; reload it and try again")


async def start(ctx: Ctx, *, session_id: str) -> SessionRead:
    now, rules = ctx.now, ctx.rules

    def changes(row: SessionRow) -> dict[str, Any]:
        if not can_start_at(row.scheduled_at, now, rules):
            raise TooEarly()
        planned, hard = end_times(
            started_at=now,
            duration_minutes=row.duration_minutes,
            extended_minutes=row.extended_minutes,
            rules=rules,
        )
        return {"started_at": now, "planned_end_at": planned, "hard_end_at": hard}

    return await _perform(ctx, session_id=session_id, action=Action.START, changes=changes)


async def extend(ctx: Ctx, *, session_id: str, minutes: int) -> SessionRead:
    def changes(row: SessionRow) -> dict[str, Any]:
        total = row.extended_minutes + minutes
        if total > MAX_EXTENSION_MINUTES:
            raise ExtensionLimit(
                f"{row.extended_minutes} minute(s) already added; at most "
                f"{MAX_EXTENSION_MINUTES - row.extended_minutes} more"
            )
        assert row.planned_end_at is not None
        assert row.hard_end_at is not None
        delta = timedelta(minutes=minutes)
        return {
            "extended_minutes": total,
            "planned_end_at": row.planned_end_at + delta,
            "hard_end_at": row.hard_end_at + delta,
        }

    return await _perform(ctx, session_id=session_id, action=Action.EXTEND, changes=changes)


async def end(ctx: Ctx, *, session_id: str) -> SessionRead:
    def changes(row: SessionRow) -> dict[str, Any]:
        reason = EndReason.ENDED_BY_INTERVIEWEE if row.practice else EndReason.ENDED_BY_INTERVIEWER
        return {"ended_at": ctx.now, "end_reason": reason}

    return await _perform(ctx, session_id=session_id, action=Action.END, changes=changes)


async def cancel(ctx: Ctx, *, session_id: str, reason: str | None) -> SessionRead:
    def changes(row: SessionRow) -> dict[str, Any]:
        by_interviewer = ctx.actor.id == row.interviewer_id
        return {
            "ended_at": ctx.now,
            "end_reason": EndReason.CANCELLED_BY_INTERVIEWER
            if by_interviewer
            else EndReason.CANCELLED_BY_INTERVIEWEE,
            "cancel_reason": reason,
        }

    return await _perform(ctx, session_id=session_id, action=Action.CANCEL, changes=changes)


async def join(ctx: Ctx, *, session_id: str) -> SessionRead:
    db, actor, now, rules = ctx.db, ctx.actor, ctx.now, ctx.rules
    row = await load_visible(db=db, actor=actor, session_id=session_id, admin_may_see=False)
    state = session_at(times_of(row), now, rules)
    if state.status not in JOINABLE:
        raise InvalidSessionState(
            f"The session is {state.status.value}; it can no longer be joined"
        )
    first_live_join = (
        actor.id == row.interviewee_id
        and state.status is SessionStatus.LIVE
        and row.interviewee_joined_at is None
    )
    if first_live_join:
        marked = await repository.mark_interviewee_joined(db, session_id=session_id, now=now)
        row = await repository.get(db, session_id) or row
        if not marked and session_at(times_of(row), now, rules).status not in JOINABLE:
            # The session ended (or was swept) between our read and our write: a lost race.
            raise InvalidSessionState("The session ended meanwhile; it can no longer be joined")
    return await read(db=db, actor=actor, row=row, now=now, rules=rules)


async def join_with_connection_info(ctx: Ctx, *, session_id: str) -> JoinRead:
    session = await join(ctx, session_id=session_id)
    return JoinRead(
        session=session,
        realtime=realtime_info.realtime_for(session.id),
        ice_servers=realtime_info.ice_servers(
            settings=ctx.settings, user_id=ctx.actor.id, now=ctx.now
        ),
    )


async def persist_due(
    *, db: Connection, events: EventBus, action: Action, now: datetime, rules: TimeRules, batch: int
) -> list[Transitioned]:
    """The sweeper's part: persist a batch of the transitions time has made, announce each."""
    transition = TRANSITIONS[action]
    rows = await repository.persist_due(
        db, source=transition.source, now=now, rules=rules, batch=batch
    )
    end_reason = EndReason.AUTO_TIMEOUT if action is Action.AUTO_TIMEOUT else EndReason.NO_SHOW
    await events.publish(
        db,
        *(
            SessionChanged(
                event=transition.event,
                session_id=row.id,
                interviewer_id=row.interviewer_id,
                interviewee_id=row.interviewee_id,
                end_reason=end_reason,
                actor_id=None,
                at=now,
                created_at=row.created_at,
                practice=row.kind is SessionKind.PRACTICE,
            )
            for row in rows
        ),
    )
    return rows


async def load_with_questions(
    db: Connection, session_id: str
) -> tuple[SessionRow, list[QuestionRow]] | None:
    """A session and its questions in position order, unchecked: for the features that act on
    a session they already know (the practice interviewer)."""
    return await repository.get_with_questions(db, session_id)
