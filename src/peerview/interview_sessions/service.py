"""Interview sessions: reading them as they are at `now`, and every lifecycle action."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from peerview.actor import Actor
from peerview.config import Settings
from peerview.db import Connection, RowMapping
from peerview.events import EventBus, SessionChanged
from peerview.interview_sessions import repository
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
    rules_from,
    session_at,
)
from peerview.interview_sessions.schemas import (
    SessionQuestionBrief,
    SessionQuestionRead,
    SessionRead,
)
from peerview.models.base import new_id
from peerview.models.enums import EndReason, Role, SessionStatus
from peerview.pagination import Page, decode_cursor, page_of
from peerview.schemas import UserRef


def time_rules(settings: Settings) -> TimeRules:
    return rules_from(
        no_show_minutes=settings.no_show_minutes,
        hard_buffer_minutes=settings.session_hard_buffer_minutes,
        early_start_minutes=settings.session_early_start_minutes,
        request_expiry_buffer_hours=settings.request_expiry_buffer_hours,
    )


def times_of(row: RowMapping) -> SessionTimes:
    return SessionTimes(
        status=SessionStatus(row["status"]),
        scheduled_at=row["scheduled_at"],
        hard_end_at=row["hard_end_at"],
        ended_at=row["ended_at"],
        end_reason=EndReason(row["end_reason"]) if row["end_reason"] else None,
    )


def sees_everything(actor: Actor, row: RowMapping) -> bool:
    """The interviewer and admins see hints and solutions; the interviewee does not."""
    return actor.role is Role.ADMIN or actor.id == row["interviewer_id"]


def to_read(
    row: RowMapping,
    *,
    now: datetime,
    rules: TimeRules,
    questions: list[RowMapping],
    full_questions: bool,
) -> SessionRead:
    """The session as it is at `now` (read-time truth), shaped for the viewer."""
    state = session_at(times_of(row), now, rules)
    shown: list[SessionQuestionRead | SessionQuestionBrief] = [
        SessionQuestionRead.model_validate(q)
        if full_questions
        else SessionQuestionBrief.model_validate(q)
        for q in questions
    ]
    return SessionRead(
        id=row["id"],
        request_id=row["request_id"],
        interviewer=UserRef(id=row["interviewer_id"], name=row["interviewer_name"]),
        interviewee=UserRef(id=row["interviewee_id"], name=row["interviewee_name"]),
        category=row["category"],
        difficulty=row["difficulty"],
        type=row["type"],
        status=state.status,
        scheduled_at=row["scheduled_at"],
        duration_minutes=row["duration_minutes"],
        started_at=row["started_at"],
        planned_end_at=row["planned_end_at"],
        hard_end_at=row["hard_end_at"],
        ended_at=state.ended_at,
        end_reason=state.end_reason,
        extended_minutes=row["extended_minutes"],
        interviewee_joined_at=row["interviewee_joined_at"],
        questions=shown,
    )


def is_participant(actor: Actor, row: RowMapping) -> bool:
    return actor.id in (row["interviewer_id"], row["interviewee_id"])


async def load_visible(
    *, db: Connection, actor: Actor, session_id: str, admin_may_see: bool = True
) -> RowMapping:
    """The session row if the caller may see it; otherwise indistinguishable from missing."""
    row = await repository.get(db, session_id)
    if row is None:
        raise SessionNotFound()
    if is_participant(actor, row) or (admin_may_see and actor.role is Role.ADMIN):
        return row
    raise SessionNotFound()


async def read(
    *, db: Connection, actor: Actor, row: RowMapping, now: datetime, rules: TimeRules
) -> SessionRead:
    questions = await repository.questions_of(db, [row["id"]])
    return to_read(
        row,
        now=now,
        rules=rules,
        questions=questions[row["id"]],
        full_questions=sees_everything(actor, row),
    )


async def get(
    *, db: Connection, actor: Actor, session_id: str, now: datetime, rules: TimeRules
) -> SessionRead:
    row = await load_visible(db=db, actor=actor, session_id=session_id)
    return await read(db=db, actor=actor, row=row, now=now, rules=rules)


async def state_at(
    *, db: Connection, actor: Actor, session_id: str, now: datetime, rules: TimeRules
) -> tuple[RowMapping, SessionTimes]:
    """A session visible to the caller and its state at `now`, for other features' rules."""
    row = await load_visible(db=db, actor=actor, session_id=session_id)
    return row, session_at(times_of(row), now, rules)


async def list_mine(
    *,
    db: Connection,
    actor: Actor,
    status: SessionStatus | None,
    now: datetime,
    rules: TimeRules,
    cursor: str | None,
    limit: int,
) -> Page[SessionRead]:
    rows = await repository.list_for_user(
        db,
        user_id=actor.id,
        status=status,
        now=now,
        rules=rules,
        cursor=decode_cursor(cursor, datetime, str),
        limit=limit,
    )
    # One query for every listed session's questions (rows holds one extra, to learn
    # whether another page exists; page_of drops it).
    questions = await repository.questions_of(db, [r["id"] for r in rows[:limit]])
    items = [
        to_read(
            r,
            now=now,
            rules=rules,
            questions=questions.get(r["id"], []),
            full_questions=sees_everything(actor, r),
        )
        for r in rows
    ]
    return page_of(items, limit, lambda s: (s.scheduled_at, s.id))


async def create_for_request(
    *,
    db: Connection,
    request: RowMapping,
    interviewer_id: str,
    now: datetime,
) -> str:
    """Create the SCHEDULED session of a just-accepted request (same transaction)."""
    session_id = new_id()
    scheduled_at: datetime = request["scheduled_at"]
    await repository.insert_session(
        db,
        {
            "id": session_id,
            "request_id": request["id"],
            "interviewer_id": interviewer_id,
            "interviewee_id": request["interviewee_id"],
            "category": request["category"],
            "difficulty": request["difficulty"],
            "type": request["type"],
            "status": SessionStatus.SCHEDULED,
            "scheduled_at": scheduled_at,
            "duration_minutes": request["duration_minutes"],
            "scheduled_end_at": scheduled_at + timedelta(minutes=request["duration_minutes"]),
            "extended_minutes": 0,
            "version": 0,
            "created_at": now,
            "updated_at": now,
        },
    )
    return session_id


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
    *,
    db: Connection,
    events: EventBus,
    actor: Actor,
    row: RowMapping,
    action: Action,
    now: datetime,
    rules: TimeRules,
    values: dict[str, Any],
) -> bool:
    """The one door for lifecycle actions: declared transition, conditional update, event.

    False when the row's version moved since it was read (another action committed first).
    """
    transition = TRANSITIONS[action]
    if transition.source is not transition.target:
        values = {**values, "status": transition.target}
    changed = await repository.update_if(
        db,
        session_id=row["id"],
        expected=transition.source,
        version=row["version"],
        now=now,
        rules=rules,
        values=values,
    )
    if not changed:
        return False
    await events.publish(
        db,
        SessionChanged(
            event=transition.event,
            session_id=row["id"],
            interviewer_id=row["interviewer_id"],
            interviewee_id=row["interviewee_id"],
            end_reason=values.get("end_reason"),
            actor_id=actor.id,
            at=now,
        ),
    )
    return True


async def _act(
    *,
    db: Connection,
    actor: Actor,
    session_id: str,
    action: Action,
    now: datetime,
    rules: TimeRules,
) -> tuple[RowMapping, SessionTimes]:
    """Visibility, then who may act, then state: the order SPEC §1 gives."""
    row = await load_visible(db=db, actor=actor, session_id=session_id, admin_may_see=False)
    transition = TRANSITIONS[action]
    if transition.who == "interviewer" and actor.id != row["interviewer_id"]:
        raise NotSessionInterviewer()
    state = session_at(times_of(row), now, rules)
    if state.status is not transition.source:
        raise InvalidSessionState(
            f"The session is {state.status.value}; {action.value} needs {transition.source.value}"
        )
    return row, state


# An action that lost the version check to a concurrent one is judged again on the row as it
# now is (each statement of a READ COMMITTED transaction sees what has committed): concurrent
# extensions all get their answer on the merits, not a 409 a retry would turn into a 200. Each
# lost attempt means another action committed, so the loop always progresses.
MAX_ATTEMPTS = 16


async def _perform(
    *,
    db: Connection,
    events: EventBus,
    actor: Actor,
    session_id: str,
    action: Action,
    now: datetime,
    rules: TimeRules,
    changes: Callable[[RowMapping], dict[str, Any]],
) -> SessionRead:
    """Check, apply and re-read one lifecycle action; `changes` gives its column values
    (and may refuse with the action's own rule)."""
    for _ in range(MAX_ATTEMPTS):
        row, _ = await _act(
            db=db, actor=actor, session_id=session_id, action=action, now=now, rules=rules
        )
        applied = await _apply(
            db=db,
            events=events,
            actor=actor,
            row=row,
            action=action,
            now=now,
            rules=rules,
            values=changes(row),
        )
        if applied:
            break
    else:
        raise InvalidSessionState("The session changed meanwhile; reload it and try again")
    updated = await repository.get(db, session_id)
    assert updated is not None
    return await read(db=db, actor=actor, row=updated, now=now, rules=rules)


async def start(
    *,
    db: Connection,
    events: EventBus,
    actor: Actor,
    session_id: str,
    now: datetime,
    rules: TimeRules,
) -> SessionRead:
    def changes(row: RowMapping) -> dict[str, Any]:
        if not can_start_at(row["scheduled_at"], now, rules):
            raise TooEarly()
        planned, hard = end_times(
            started_at=now,
            duration_minutes=row["duration_minutes"],
            extended_minutes=row["extended_minutes"],
            rules=rules,
        )
        return {"started_at": now, "planned_end_at": planned, "hard_end_at": hard}

    return await _perform(
        db=db,
        events=events,
        actor=actor,
        session_id=session_id,
        action=Action.START,
        now=now,
        rules=rules,
        changes=changes,
    )


async def extend(
    *,
    db: Connection,
    events: EventBus,
    actor: Actor,
    session_id: str,
    minutes: int,
    now: datetime,
    rules: TimeRules,
) -> SessionRead:
    def changes(row: RowMapping) -> dict[str, Any]:
        total = row["extended_minutes"] + minutes
        if total > MAX_EXTENSION_MINUTES:
            raise ExtensionLimit(
                f"{row['extended_minutes']} minute(s) already added; at most "
                f"{MAX_EXTENSION_MINUTES - row['extended_minutes']} more"
            )
        delta = timedelta(minutes=minutes)
        return {
            "extended_minutes": total,
            "planned_end_at": row["planned_end_at"] + delta,
            "hard_end_at": row["hard_end_at"] + delta,
        }

    return await _perform(
        db=db,
        events=events,
        actor=actor,
        session_id=session_id,
        action=Action.EXTEND,
        now=now,
        rules=rules,
        changes=changes,
    )


async def end(
    *,
    db: Connection,
    events: EventBus,
    actor: Actor,
    session_id: str,
    now: datetime,
    rules: TimeRules,
) -> SessionRead:
    return await _perform(
        db=db,
        events=events,
        actor=actor,
        session_id=session_id,
        action=Action.END,
        now=now,
        rules=rules,
        changes=lambda _: {"ended_at": now, "end_reason": EndReason.ENDED_BY_INTERVIEWER},
    )


async def cancel(
    *,
    db: Connection,
    events: EventBus,
    actor: Actor,
    session_id: str,
    reason: str | None,
    now: datetime,
    rules: TimeRules,
) -> SessionRead:
    def changes(row: RowMapping) -> dict[str, Any]:
        by_interviewer = actor.id == row["interviewer_id"]
        return {
            "ended_at": now,
            "end_reason": EndReason.CANCELLED_BY_INTERVIEWER
            if by_interviewer
            else EndReason.CANCELLED_BY_INTERVIEWEE,
            "cancel_reason": reason,
        }

    return await _perform(
        db=db,
        events=events,
        actor=actor,
        session_id=session_id,
        action=Action.CANCEL,
        now=now,
        rules=rules,
        changes=changes,
    )


async def join(
    *, db: Connection, actor: Actor, session_id: str, now: datetime, rules: TimeRules
) -> SessionRead:
    row = await load_visible(db=db, actor=actor, session_id=session_id, admin_may_see=False)
    state = session_at(times_of(row), now, rules)
    if state.status not in JOINABLE:
        raise InvalidSessionState(
            f"The session is {state.status.value}; it can no longer be joined"
        )
    first_live_join = (
        actor.id == row["interviewee_id"]
        and state.status is SessionStatus.LIVE
        and row["interviewee_joined_at"] is None
    )
    if first_live_join:
        marked = await repository.mark_interviewee_joined(db, session_id=session_id, now=now)
        row = await repository.get(db, session_id) or row
        if not marked and session_at(times_of(row), now, rules).status not in JOINABLE:
            # The session ended (or was swept) between our read and our write: a lost race.
            raise InvalidSessionState("The session ended meanwhile; it can no longer be joined")
    return await read(db=db, actor=actor, row=row, now=now, rules=rules)
