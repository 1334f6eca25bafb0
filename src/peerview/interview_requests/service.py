"""Interview requests: posting, browsing, accepting (a race exactly one caller wins), cancelling."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from peerview.context import Ctx
from peerview.db import Connection, IntegrityError
from peerview.events import (
    EventBus,
    RequestAccepted,
    RequestCancelled,
    RequestCreated,
    RequestExpired,
)
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
from peerview.interview_requests.repository import Expired, RequestRow
from peerview.interview_requests.schemas import RequestCreate, RequestRead
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.lifecycle import request_status_at
from peerview.interview_sessions.schemas import SessionRead
from peerview.models.base import new_id
from peerview.models.enums import Difficulty, QuestionType, RequestStatus, Role
from peerview.pagination import decode_cursor, page_of
from peerview.schemas import Page, UserRef

MAX_OPEN_REQUESTS = 5
MAX_DAYS_AHEAD = 60


def status_at(row: RequestRow, now: datetime) -> RequestStatus:
    return request_status_at(row.status, row.expires_at, now)


def to_read(row: RequestRow, now: datetime) -> RequestRead:
    return RequestRead(
        id=row.id,
        interviewee=UserRef(id=row.interviewee_id, name=row.interviewee_name),
        category=row.category,
        difficulty=row.difficulty,
        type=row.type,
        scheduled_at=row.scheduled_at,
        duration_minutes=row.duration_minutes,
        note=row.note,
        status=status_at(row, now),
        expires_at=row.expires_at,
        created_at=row.created_at,
        session_id=row.session_id,
    )


async def create(ctx: Ctx, *, body: RequestCreate) -> RequestRead:
    now, actor = ctx.now, ctx.actor
    buffer = ctx.rules.request_expiry_buffer
    # Whole seconds: schedules need no more, and stored times stay exact on every database.
    # In UTC, so this answer shows the same times as every later read of the request.
    scheduled_at = body.scheduled_at.astimezone(UTC).replace(microsecond=0)
    expires_at = scheduled_at - buffer
    if expires_at <= now:
        raise ScheduleTooSoon(f"Requests must be scheduled more than {buffer} ahead")
    if scheduled_at > now + timedelta(days=MAX_DAYS_AHEAD):
        raise ScheduleTooFar()
    read = RequestRead(
        id=new_id(),
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
    # The actor's writes run one at a time (peerview.context): no other request of theirs is
    # counted or inserted meanwhile.
    inserted = await repository.insert_if_room(
        ctx.db,
        limit=MAX_OPEN_REQUESTS,
        now=now,
        id=read.id,
        interviewee_id=actor.id,
        category=body.category,
        difficulty=body.difficulty,
        type=body.type,
        scheduled_at=scheduled_at,
        duration_minutes=body.duration_minutes,
        note=body.note,
        status=RequestStatus.OPEN,
        expires_at=expires_at,
        accepted_at=None,
        accept_wait_us=None,
        created_at=now,
        updated_at=now,
    )
    if not inserted:
        raise TooManyOpenRequests()
    await ctx.events.publish(
        ctx.db, RequestCreated(request_id=read.id, interviewee_id=actor.id, at=now)
    )
    return read


async def list_open(
    ctx: Ctx,
    *,
    category: str | None,
    difficulty: Difficulty | None,
    type_: QuestionType | None,
    scheduled_from: datetime | None,
    scheduled_to: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[RequestRead]:
    now = ctx.now
    rows = await repository.list_open(
        ctx.db,
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
    ctx: Ctx, *, status: RequestStatus | None, cursor: str | None, limit: int
) -> Page[RequestRead]:
    rows = await repository.list_mine(
        ctx.db,
        user_id=ctx.actor.id,
        as_interviewer=ctx.actor.role is Role.INTERVIEWER,
        status=status,
        now=ctx.now,
        cursor=decode_cursor(cursor, datetime, str),
        limit=limit,
    )
    now = ctx.now
    return page_of([to_read(r, now) for r in rows], limit, lambda r: (r.created_at, r.id))


def _visible(ctx: Ctx, row: RequestRow) -> bool:
    actor = ctx.actor
    if actor.role is Role.ADMIN or actor.id in (row.interviewee_id, row.interviewer_id):
        return True
    return actor.role is Role.INTERVIEWER and status_at(row, ctx.now) is RequestStatus.OPEN


async def get(ctx: Ctx, *, request_id: str) -> RequestRead:
    row = await repository.get(ctx.db, request_id)
    if row is None or not _visible(ctx, row):
        raise RequestNotFound()
    return to_read(row, ctx.now)


def _refuse_if_not_open(row: RequestRow, now: datetime) -> None:
    status = status_at(row, now)
    if status is RequestStatus.EXPIRED:
        raise RequestExpiredError()
    if status is not RequestStatus.OPEN:
        raise RequestNotOpen(f"The request is {status.value}")


async def accept(ctx: Ctx, *, request_id: str) -> SessionRead:
    db, actor, now = ctx.db, ctx.actor, ctx.now
    # Read before the transaction: most callers of a contended accept are refused here, and
    # take no lock. What the transaction then relies on is what a request never changes
    # (its owner, time, kind); its status is judged again by the conditional UPDATE below.
    row = await repository.get(db, request_id, before_transaction=True)
    if row is None:
        raise RequestNotFound()
    # By identity, not by role: someone who posted as an interviewee and later became an
    # interviewer still may not accept their own old request.
    if row.interviewee_id == actor.id:
        raise SelfAccept()
    _refuse_if_not_open(row, now)
    # The interviewer's writes run one at a time (peerview.context): no other acceptance of
    # theirs can book the same time meanwhile.
    busy = await sessions_service.interviewer_is_busy(
        db=db,
        interviewer_id=actor.id,
        start=row.scheduled_at,
        duration_minutes=row.duration_minutes,
        now=now,
        rules=ctx.rules,
    )
    if busy:
        raise ScheduleConflict()
    # Stored with the acceptance, in exact microseconds: the median wait reads it by index.
    waited_us = (now - row.created_at) // timedelta(microseconds=1)
    won = await repository.move_if_open(
        db,
        request_id=request_id,
        now=now,
        status=RequestStatus.ACCEPTED,
        accepted_at=now,
        accept_wait_us=waited_us,
    )
    if not won:
        raise RequestNotOpen("Another interviewer accepted this request first")
    try:
        session = await sessions_service.create_for_request(
            db=db, request=row, interviewer=actor, now=now
        )
    except IntegrityError as exc:
        # The unique request_id of sessions: the backstop if the conditional update ever let
        # two by. The whole transaction rolls back with the 409.
        raise RequestNotOpen("Another interviewer accepted this request first") from exc
    await ctx.events.publish(
        db,
        RequestAccepted(
            request_id=request_id,
            session_id=session.id,
            interviewee_id=row.interviewee_id,
            interviewer_id=actor.id,
            scheduled_at=row.scheduled_at,
            at=now,
            request_created_at=row.created_at,
            accept_wait_us=waited_us,
        ),
    )
    # What was just written, as its interviewer sees it: no question yet.
    return sessions_service.to_read(
        session, now=now, rules=ctx.rules, questions=[], full_questions=True
    )


async def cancel(ctx: Ctx, *, request_id: str) -> RequestRead:
    row = await repository.get(ctx.db, request_id)
    if row is None or row.interviewee_id != ctx.actor.id:
        raise RequestNotFound()
    status = status_at(row, ctx.now)
    if status is not RequestStatus.OPEN:
        raise RequestNotOpen(f"The request is {status.value}")
    won = await repository.move_if_open(
        ctx.db, request_id=request_id, now=ctx.now, status=RequestStatus.CANCELLED
    )
    if not won:
        raise RequestNotOpen("The request changed meanwhile")
    await ctx.events.publish(
        ctx.db,
        RequestCancelled(
            request_id=request_id,
            interviewee_id=row.interviewee_id,
            at=ctx.now,
            created_at=row.created_at,
        ),
    )
    return to_read(msgspec.structs.replace(row, status=RequestStatus.CANCELLED), ctx.now)


async def expire_due(
    *, db: Connection, events: EventBus, now: datetime, batch: int
) -> list[Expired]:
    """The sweeper's part: persist a batch of expirations and announce each one."""
    rows = await repository.expire_due(db, now=now, batch=batch)
    await events.publish(
        db,
        *(
            RequestExpired(
                request_id=row.id,
                interviewee_id=row.interviewee_id,
                at=now,
                created_at=row.created_at,
            )
            for row in rows
        ),
    )
    return rows
