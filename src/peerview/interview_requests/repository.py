"""SQL for interview requests."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import ColumnElement, Executable, and_, func, insert, null, or_, select, update

from peerview.db import Connection, Dialect, Query, Variants, bind, binds_for, unindexed
from peerview.models import InterviewRequest, InterviewSession, User
from peerview.models.base import table_of
from peerview.models.enums import Difficulty, QuestionType, RequestStatus
from peerview.pagination import after, cursor_params

requests = table_of(InterviewRequest)
_sessions = table_of(InterviewSession)
_users = table_of(User)
_NOW = bind("now", requests.c.expires_at.type)


class Expired(msgspec.Struct, frozen=True):
    """A request the sweeper marked EXPIRED."""

    id: str
    interviewee_id: str
    created_at: datetime


class RequestRow(msgspec.Struct, frozen=True):
    id: str
    interviewee_id: str
    category: str
    difficulty: Difficulty
    type: QuestionType
    scheduled_at: datetime
    duration_minutes: int
    note: str
    status: RequestStatus
    expires_at: datetime
    created_at: datetime
    interviewee_name: str
    session_id: str | None
    interviewer_id: str | None


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


# What a request's answer and rules read of its row.
COLUMNS = (
    requests.c.id,
    requests.c.interviewee_id,
    requests.c.category,
    requests.c.difficulty,
    requests.c.type,
    requests.c.scheduled_at,
    requests.c.duration_minutes,
    requests.c.note,
    requests.c.status,
    requests.c.expires_at,
    requests.c.created_at,
)

_WITH_REFS = select(
    *COLUMNS,
    _users.c.name.label("interviewee_name"),
    _sessions.c.id.label("session_id"),
    _sessions.c.interviewer_id.label("interviewer_id"),
).select_from(
    requests.join(_users, _users.c.id == requests.c.interviewee_id).outerjoin(
        _sessions, _sessions.c.request_id == requests.c.id
    )
)

_GET = Query(_WITH_REFS.where(requests.c.id == bind("request_id")), RequestRow)
# The new request goes in only while its interviewee has fewer than `limit` OPEN ones: the
# count and the insert in one statement, read after the writer's lock (peerview.context).
_INSERT_IF_ROOM = Query(
    insert(requests).from_select(
        [c.name for c in requests.c],
        select(*binds_for(list(requests.c)).values()).where(
            select(func.count())
            .select_from(requests)
            .where(
                requests.c.interviewee_id == bind("interviewee_id"),
                effective_status_is(RequestStatus.OPEN, _NOW),
            )
            .scalar_subquery()
            < bind("limit")
        ),
    )
)


def _open(
    category: bool, difficulty: bool, type_: bool, since: bool, until: bool, cursor: bool
) -> Callable[[Dialect], Executable]:
    """The open list for the filters given, shaped for each dialect's planner.

    Both planners would read every OPEN row through the (status, expires_at) index, look up
    each one's interviewee, then sort. SQLite is kept off that index (`unindexed`), so it
    walks the (status, scheduled_at) index in the list's order and stops at the page's end;
    PostgreSQL sorts the requests alone and looks up the names of the page's rows only.
    """
    conditions = [
        requests.c.status == RequestStatus.OPEN,
        unindexed(requests.c.expires_at) > _NOW,  # effective_status_is(OPEN), for SQLite
    ]
    if category:
        conditions.append(requests.c.category == bind("category"))
    if difficulty:
        conditions.append(requests.c.difficulty == bind("difficulty"))
    if type_:
        conditions.append(requests.c.type == bind("type"))
    if since:
        conditions.append(requests.c.scheduled_at >= bind("since", requests.c.scheduled_at.type))
    if until:
        conditions.append(requests.c.scheduled_at <= bind("until", requests.c.scheduled_at.type))
    if cursor:
        conditions.append(after((requests.c.scheduled_at, requests.c.id)))
    refs = (null().label("session_id"), null().label("interviewer_id"))

    def build(dialect: Dialect) -> Executable:
        if dialect == "sqlite":
            return (
                select(*COLUMNS, _users.c.name.label("interviewee_name"), *refs)
                .select_from(requests.join(_users, _users.c.id == requests.c.interviewee_id))
                .where(*conditions)
                .order_by(requests.c.scheduled_at, requests.c.id)
                .limit(bind("limit"))
            )
        page = (
            select(*COLUMNS)
            .where(*conditions)
            .order_by(requests.c.scheduled_at, requests.c.id)
            .limit(bind("limit"))
            .subquery("page")
        )
        return (
            select(*page.c, _users.c.name.label("interviewee_name"), *refs)
            .select_from(page.join(_users, _users.c.id == page.c.interviewee_id))
            .order_by(page.c.scheduled_at, page.c.id)
        )

    return build


# The hot read: one statement per combination of filters, each built and compiled once.
_OPEN = Variants(_open, RequestRow)


def _mine(as_interviewer: bool, status: RequestStatus | None, cursor: bool) -> Executable:
    owner = _sessions.c.interviewer_id if as_interviewer else requests.c.interviewee_id
    query = (
        _WITH_REFS.where(owner == bind("user_id"))
        .order_by(requests.c.created_at.desc(), requests.c.id.desc())
        .limit(bind("limit"))
    )
    if status is not None:
        query = query.where(effective_status_is(status, _NOW))
    if cursor:
        query = query.where(after((requests.c.created_at, requests.c.id), descending=True))
    return query


_MINE = Variants(_mine, RequestRow)


def _move(*columns: str) -> Executable:
    values = {name: bind(name, requests.c[name].type) for name in columns}
    return (
        update(requests)
        .where(requests.c.id == bind("request_id"), effective_status_is(RequestStatus.OPEN, _NOW))
        .values({**values, "updated_at": _NOW})
    )


_MOVE_IF_OPEN = Variants(_move)

_DUE = and_(requests.c.status == RequestStatus.OPEN, requests.c.expires_at <= _NOW)
# Ordered by the indexed deadline: the (status, expires_at) index serves it at any size. On
# PostgreSQL SKIP LOCKED lets concurrent sweepers split the work.
_EXPIRE_DUE = Query(
    update(requests)
    .where(
        requests.c.id.in_(
            select(requests.c.id)
            .where(_DUE)
            .order_by(requests.c.expires_at)
            .limit(bind("batch"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        ),
        _DUE,
    )
    .values(status=RequestStatus.EXPIRED, updated_at=_NOW)
    .returning(requests.c.id, requests.c.interviewee_id, requests.c.created_at),
    Expired,
)


async def insert_if_room(db: Connection, *, limit: int, now: datetime, **values: Any) -> bool:
    """Insert the request unless its interviewee already has `limit` OPEN ones; whether it
    went in."""
    return await db.run(_INSERT_IF_ROOM, limit=limit, now=now, **values) == 1


async def get(
    db: Connection, request_id: str, *, before_transaction: bool = False
) -> RequestRow | None:
    """One request; `before_transaction` reads it before the request's transaction opens
    (see `Connection.peek`)."""
    if before_transaction:
        return await db.peek(_GET, request_id=request_id)
    return await db.one(_GET, request_id=request_id)


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
) -> list[RequestRow]:
    params: dict[str, Any] = {"now": now, "limit": limit + 1}
    filters = {
        "category": category,
        "difficulty": difficulty,
        "type": type_,
        "since": scheduled_from,
        "until": scheduled_to,
    }
    params.update((name, value) for name, value in filters.items() if value is not None)
    if cursor is not None:
        params.update(cursor_params(cursor))
    query = _OPEN(*(value is not None for value in filters.values()), cursor is not None)
    return await db.all(query, **params)


async def list_mine(
    db: Connection,
    *,
    user_id: str,
    as_interviewer: bool,
    status: RequestStatus | None,
    now: datetime,
    cursor: list[Any] | None,
    limit: int,
) -> list[RequestRow]:
    params: dict[str, Any] = {"user_id": user_id, "now": now, "limit": limit + 1}
    if cursor is not None:
        params.update(cursor_params(cursor))
    query = _MINE(as_interviewer, status, cursor is not None)
    return await db.all(query, **params)


async def move_if_open(db: Connection, *, request_id: str, now: datetime, **values: Any) -> bool:
    """OPEN → another status, only if still OPEN and unexpired: the row count says who won."""
    query = _MOVE_IF_OPEN(*sorted(values))
    return await db.run(query, request_id=request_id, now=now, **values) == 1


async def expire_due(db: Connection, *, now: datetime, batch: int) -> list[Expired]:
    """Persist one bounded batch of expirations that time has already made."""
    return await db.all(_EXPIRE_DUE, now=now, batch=batch)
