"""SQL for interview requests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    bindparam,
    func,
    insert,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.sql import Select

from peerview.db import Connection, RowMapping
from peerview.models import InterviewRequest, InterviewSession, User
from peerview.models.base import table_of
from peerview.models.enums import RequestStatus
from peerview.pagination import after

requests = table_of(InterviewRequest)
_sessions = table_of(InterviewSession)
_users = table_of(User)

REQUEST_COLUMNS = (
    *requests.c,
    _users.c.name.label("interviewee_name"),
    _sessions.c.id.label("session_id"),
    _sessions.c.interviewer_id.label("interviewer_id"),
)


def _with_refs() -> Select[Any]:
    return select(*REQUEST_COLUMNS).select_from(
        requests.join(_users, _users.c.id == requests.c.interviewee_id).outerjoin(
            _sessions, _sessions.c.request_id == requests.c.id
        )
    )


def effective_status_is(
    status: RequestStatus, now: datetime | ColumnElement[datetime]
) -> ColumnElement[bool]:
    """SQL for "is `status` at `now`", by the rule of lifecycle.request_status_at."""
    if status is RequestStatus.OPEN:
        return and_(requests.c.status == RequestStatus.OPEN, requests.c.expires_at > now)
    if status is RequestStatus.EXPIRED:
        return or_(
            requests.c.status == RequestStatus.EXPIRED,
            and_(requests.c.status == RequestStatus.OPEN, requests.c.expires_at <= now),
        )
    return requests.c.status == status


_INSERT_REQUEST = insert(requests)


async def insert_request(db: Connection, values: dict[str, Any]) -> None:
    await db.execute(_INSERT_REQUEST, values)


async def get(db: Connection, request_id: str) -> RowMapping | None:
    result = await db.execute(_with_refs().where(requests.c.id == request_id))
    row: RowMapping | None = result.mappings().first()
    return row


_COUNT_OPEN = (
    select(func.count())
    .select_from(requests)
    .where(
        requests.c.interviewee_id == bindparam("interviewee_id"),
        effective_status_is(RequestStatus.OPEN, bindparam("now", type_=requests.c.expires_at.type)),
    )
)


async def count_open(db: Connection, *, interviewee_id: str, now: datetime) -> int:
    result = await db.execute(_COUNT_OPEN, {"interviewee_id": interviewee_id, "now": now})
    return int(result.scalar_one())


# The hot read, built once: without filters it runs as is (no construction, no cache key).
_OPEN_REQUESTS = (
    # Open requests have no session yet: join only the interviewee's name.
    select(*requests.c, _users.c.name.label("interviewee_name"), null().label("session_id"))
    .select_from(requests.join(_users, _users.c.id == requests.c.interviewee_id))
    .where(
        effective_status_is(RequestStatus.OPEN, bindparam("now", type_=requests.c.expires_at.type))
    )
    .order_by(requests.c.scheduled_at, requests.c.id)
    .limit(bindparam("limit"))
)


async def list_open(
    db: Connection,
    *,
    now: datetime,
    category: str | None,
    difficulty: str | None,
    type_: str | None,
    scheduled_from: datetime | None,
    scheduled_to: datetime | None,
    cursor: list[Any] | None,
    limit: int,
) -> list[RowMapping]:
    query = _OPEN_REQUESTS
    if category is not None:
        query = query.where(requests.c.category == category)
    if difficulty is not None:
        query = query.where(requests.c.difficulty == difficulty)
    if type_ is not None:
        query = query.where(requests.c.type == type_)
    if scheduled_from is not None:
        query = query.where(requests.c.scheduled_at >= scheduled_from)
    if scheduled_to is not None:
        query = query.where(requests.c.scheduled_at <= scheduled_to)
    if cursor is not None:
        query = query.where(after((requests.c.scheduled_at, requests.c.id), cursor))
    result = await db.execute(query, {"now": now, "limit": limit + 1})
    return list(result.mappings().all())


async def list_mine(
    db: Connection,
    *,
    user_id: str,
    as_interviewer: bool,
    status: RequestStatus | None,
    now: datetime,
    cursor: list[Any] | None,
    limit: int,
) -> list[RowMapping]:
    owner = _sessions.c.interviewer_id if as_interviewer else requests.c.interviewee_id
    query = (
        _with_refs()
        .where(owner == user_id)
        .order_by(requests.c.created_at.desc(), requests.c.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        query = query.where(effective_status_is(status, now))
    if cursor is not None:
        query = query.where(after((requests.c.created_at, requests.c.id), cursor, descending=True))
    result = await db.execute(query)
    return list(result.mappings().all())


_LOCK_USER = select(_users.c.id).where(_users.c.id == bindparam("user_id")).with_for_update()


async def lock_user(db: Connection, user_id: str) -> None:
    """Serialise one user's competing writes: a row lock on PostgreSQL. SQLite needs none, its
    writers already hold the one write lock (BEGIN IMMEDIATE)."""
    if db.dialect != "sqlite":
        await db.execute(_LOCK_USER, {"user_id": user_id})


async def move_if_open(
    db: Connection, *, request_id: str, now: datetime, values: dict[str, Any]
) -> bool:
    """OPEN → another status, only if still OPEN and unexpired: the row count says who won."""
    result = await db.execute(
        update(requests)
        .where(requests.c.id == request_id, effective_status_is(RequestStatus.OPEN, now))
        .values(**values, updated_at=now)
    )
    return result.rowcount == 1


async def expire_due(db: Connection, *, now: datetime, batch: int) -> list[RowMapping]:
    """Persist one bounded batch of expirations that time has already made."""
    due = and_(requests.c.status == RequestStatus.OPEN, requests.c.expires_at <= now)
    # Ordered by the indexed deadline: the (status, expires_at) index serves it at any size.
    candidates = select(requests.c.id).where(due).order_by(requests.c.expires_at).limit(batch)
    if db.dialect == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    result = await db.execute(
        update(requests)
        .where(requests.c.id.in_(candidates.scalar_subquery()), due)
        .values(status=RequestStatus.EXPIRED, updated_at=now)
        .returning(requests.c.id, requests.c.interviewee_id)
    )
    return list(result.mappings().all())
