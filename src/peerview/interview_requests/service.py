"""Interview requests: posting, browsing, accepting (a race exactly one caller wins), cancelling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from peerview.actor import Actor
from peerview.db import Connection, IntegrityError, RowMapping
from peerview.events import EventBus, RequestAccepted, RequestExpired
from peerview.interview_requests import repository
from peerview.interview_requests.errors import (
    RequestExpired as RequestExpiredError,
)
from peerview.interview_requests.errors import (
    RequestNotFound,
    RequestNotOpen,
    ScheduleConflict,
    ScheduleTooFar,
    ScheduleTooSoon,
    SelfAccept,
    TooManyOpenRequests,
)
from peerview.interview_requests.schemas import RequestCreate, RequestRead
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.lifecycle import TimeRules, request_status_at
from peerview.interview_sessions.schemas import SessionRead
from peerview.models.base import new_id
from peerview.models.enums import Difficulty, QuestionType, RequestStatus, Role
from peerview.pagination import Page, decode_cursor, page_of
from peerview.schemas import UserRef

MAX_OPEN_REQUESTS = 5
MAX_DAYS_AHEAD = 60


def status_at(row: RowMapping, now: datetime) -> RequestStatus:
    return request_status_at(RequestStatus(row["status"]), row["expires_at"], now)


def to_read(row: RowMapping, now: datetime) -> RequestRead:
    return RequestRead(
        id=row["id"],
        interviewee=UserRef(id=row["interviewee_id"], name=row["interviewee_name"]),
        category=row["category"],
        difficulty=row["difficulty"],
        type=row["type"],
        scheduled_at=row["scheduled_at"],
        duration_minutes=row["duration_minutes"],
        note=row["note"],
        status=status_at(row, now),
        expires_at=row["expires_at"],
        created_at=row["created_at"],
        session_id=row.get("session_id"),
    )


async def create(
    *, db: Connection, actor: Actor, body: RequestCreate, now: datetime, rules: TimeRules
) -> RequestRead:
    # Whole seconds: schedules need no more, and stored times stay exact on every database.
    # In UTC, so this answer shows the same times as every later read of the request.
    scheduled_at = body.scheduled_at.astimezone(UTC).replace(microsecond=0)
    expires_at = scheduled_at - rules.request_expiry_buffer
    if expires_at <= now:
        raise ScheduleTooSoon(
            f"Requests must be scheduled more than {rules.request_expiry_buffer} ahead"
        )
    if scheduled_at > now + timedelta(days=MAX_DAYS_AHEAD):
        raise ScheduleTooFar()
    await repository.lock_user(db, actor.id)
    if await repository.count_open(db, interviewee_id=actor.id, now=now) >= MAX_OPEN_REQUESTS:
        raise TooManyOpenRequests()
    request_id = new_id()
    await repository.insert_request(
        db,
        {
            "id": request_id,
            "interviewee_id": actor.id,
            "category": body.category,
            "difficulty": body.difficulty,
            "type": body.type,
            "scheduled_at": scheduled_at,
            "duration_minutes": body.duration_minutes,
            "note": body.note,
            "status": RequestStatus.OPEN,
            "expires_at": expires_at,
            "created_at": now,
            "updated_at": now,
        },
    )
    return RequestRead(
        id=request_id,
        interviewee=UserRef(id=actor.id, name=actor.name),
        category=body.category,
        difficulty=body.difficulty,
        type=body.type,
        scheduled_at=scheduled_at,
        duration_minutes=body.duration_minutes,
        note=body.note,
        status=RequestStatus.OPEN,
        expires_at=expires_at,
        created_at=now,
        session_id=None,
    )


async def list_open(
    *,
    db: Connection,
    now: datetime,
    category: str | None,
    difficulty: Difficulty | None,
    type_: QuestionType | None,
    scheduled_from: datetime | None,
    scheduled_to: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[RequestRead]:
    rows = await repository.list_open(
        db,
        now=now,
        category=category.lower() if category else None,
        difficulty=difficulty,
        type_=type_,
        scheduled_from=scheduled_from,
        scheduled_to=scheduled_to,
        cursor=decode_cursor(cursor, datetime, str),
        limit=limit,
    )
    return page_of([to_read(r, now) for r in rows], limit, lambda r: (r.scheduled_at, r.id))


async def list_mine(
    *,
    db: Connection,
    actor: Actor,
    status: RequestStatus | None,
    now: datetime,
    cursor: str | None,
    limit: int,
) -> Page[RequestRead]:
    rows = await repository.list_mine(
        db,
        user_id=actor.id,
        as_interviewer=actor.role is Role.INTERVIEWER,
        status=status,
        now=now,
        cursor=decode_cursor(cursor, datetime, str),
        limit=limit,
    )
    return page_of([to_read(r, now) for r in rows], limit, lambda r: (r.created_at, r.id))


def _visible(actor: Actor, row: RowMapping, now: datetime) -> bool:
    if actor.role is Role.ADMIN or actor.id in (row["interviewee_id"], row["interviewer_id"]):
        return True
    return actor.role is Role.INTERVIEWER and status_at(row, now) is RequestStatus.OPEN


async def get(*, db: Connection, actor: Actor, request_id: str, now: datetime) -> RequestRead:
    row = await repository.get(db, request_id)
    if row is None or not _visible(actor, row, now):
        raise RequestNotFound()
    return to_read(row, now)


def _refuse_if_not_open(row: RowMapping, now: datetime) -> None:
    status = status_at(row, now)
    if status is RequestStatus.EXPIRED:
        raise RequestExpiredError()
    if status is not RequestStatus.OPEN:
        raise RequestNotOpen(f"The request is {status.value}")


async def accept(
    *,
    db: Connection,
    events: EventBus,
    actor: Actor,
    request_id: str,
    now: datetime,
    rules: TimeRules,
) -> SessionRead:
    row = await repository.get(db, request_id)
    if row is None:
        raise RequestNotFound()
    # By identity, not by role: someone who posted as an interviewee and later became an
    # interviewer still may not accept their own old request.
    if row["interviewee_id"] == actor.id:
        raise SelfAccept()
    _refuse_if_not_open(row, now)
    await repository.lock_user(db, actor.id)
    busy = await sessions_service.interviewer_is_busy(
        db=db,
        interviewer_id=actor.id,
        start=row["scheduled_at"],
        duration_minutes=row["duration_minutes"],
        now=now,
        rules=rules,
    )
    if busy:
        raise ScheduleConflict()
    won = await repository.move_if_open(
        db,
        request_id=request_id,
        now=now,
        values={"status": RequestStatus.ACCEPTED, "accepted_at": now},
    )
    if not won:
        raise RequestNotOpen("Another interviewer accepted this request first")
    try:
        async with db.savepoint():
            session_id = await sessions_service.create_for_request(
                db=db, request=row, interviewer_id=actor.id, now=now
            )
    except IntegrityError as exc:
        # The unique request_id of sessions: the backstop if the conditional update ever let two by.
        raise RequestNotOpen("Another interviewer accepted this request first") from exc
    await events.publish(
        db,
        RequestAccepted(
            request_id=request_id,
            session_id=session_id,
            interviewee_id=row["interviewee_id"],
            interviewer_id=actor.id,
            scheduled_at=row["scheduled_at"],
            at=now,
        ),
    )
    return await sessions_service.get(
        db=db, actor=actor, session_id=session_id, now=now, rules=rules
    )


async def cancel(*, db: Connection, actor: Actor, request_id: str, now: datetime) -> RequestRead:
    row = await repository.get(db, request_id)
    if row is None or row["interviewee_id"] != actor.id:
        raise RequestNotFound()
    if status_at(row, now) is not RequestStatus.OPEN:
        raise RequestNotOpen(f"The request is {status_at(row, now).value}")
    won = await repository.move_if_open(
        db, request_id=request_id, now=now, values={"status": RequestStatus.CANCELLED}
    )
    if not won:
        raise RequestNotOpen("The request changed meanwhile")
    updated = await repository.get(db, request_id)
    assert updated is not None
    return to_read(updated, now)


async def expire_due(
    *, db: Connection, events: EventBus, now: datetime, batch: int
) -> list[RowMapping]:
    """The sweeper's part: persist a batch of expirations and announce each one."""
    rows = await repository.expire_due(db, now=now, batch=batch)
    for row in rows:
        await events.publish(
            db, RequestExpired(request_id=row["id"], interviewee_id=row["interviewee_id"], at=now)
        )
    return rows
