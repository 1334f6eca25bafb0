"""SQL for notifications, their e-mail delivery state, and the reminders that are due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import msgspec
from sqlalchemy import Executable, and_, exists, or_, select, update

from peerview.db import (
    Connection,
    Dialect,
    Query,
    Variants,
    bind,
    in_list,
    insert_ignoring_conflicts,
    plus_seconds,
)
from peerview.models import InterviewRequest, InterviewSession, Notification, User
from peerview.models.base import table_of
from peerview.models.enums import EmailStatus, NotificationKind, SessionStatus
from peerview.pagination import after, cursor_params

notifications = table_of(Notification)
_sessions = table_of(InterviewSession)
_requests = table_of(InterviewRequest)
_users = table_of(User)
_interviewer = _users.alias("interviewer")
_interviewee = _users.alias("interviewee")
_TIME = notifications.c.created_at.type
_NOW = bind("now", _TIME)

COLUMNS = (
    notifications.c.id,
    notifications.c.user_id,
    notifications.c.kind,
    notifications.c.session_id,
    notifications.c.request_id,
    notifications.c.title,
    notifications.c.body,
    notifications.c.created_at,
    notifications.c.read_at,
    notifications.c.email_status,
    notifications.c.email_attempts,
    notifications.c.email_next_at,
)
INSERTED = ("dedupe_key", *(c.name for c in COLUMNS))


class NotificationRow(msgspec.Struct, frozen=True):
    id: str
    user_id: str
    kind: NotificationKind
    session_id: str | None
    request_id: str | None
    title: str
    body: str
    created_at: datetime
    read_at: datetime | None
    email_status: EmailStatus
    email_attempts: int
    email_next_at: datetime | None


class SessionDetails(msgspec.Struct, frozen=True):
    """What a notification about a session says: its subject, time and people."""

    id: str
    category: str
    difficulty: str
    type: str
    scheduled_at: datetime
    interviewer_id: str
    interviewee_id: str
    interviewer_name: str
    interviewee_name: str


class RequestDetails(msgspec.Struct, frozen=True):
    id: str
    category: str
    difficulty: str
    type: str
    scheduled_at: datetime
    interviewee_id: str


class DueReminder(msgspec.Struct, frozen=True):
    id: str
    interviewer_id: str
    interviewee_id: str
    scheduled_at: datetime


def _insert_new(count: int) -> Callable[[Dialect], Executable]:
    def build(dialect: Dialect) -> Executable:
        rows = [
            {name: bind(f"{name}_{i}", notifications.c[name].type) for name in INSERTED}
            for i in range(count)
        ]
        statement = insert_ignoring_conflicts(dialect, notifications).values(rows)
        return statement.returning(*COLUMNS)  # type: ignore[no-any-return]

    return build


# One statement for up to INSERT_CHUNK notifications (a sweeper batch's take several), well
# within both databases' limits on bound parameters.
_INSERT_NEW = Variants(_insert_new, NotificationRow)
INSERT_CHUNK = 200
_GET = Query(select(*COLUMNS).where(notifications.c.id == bind("notification_id")), NotificationRow)


def _list(unread: bool, cursor: bool) -> Executable:
    query = (
        select(*COLUMNS)
        .where(notifications.c.user_id == bind("user_id"))
        .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
        .limit(bind("limit"))
    )
    if unread:
        query = query.where(notifications.c.read_at.is_(None))
    if cursor:
        order = (notifications.c.created_at, notifications.c.id)
        query = query.where(after(order, descending=True))
    return query


_LIST = Variants(_list, NotificationRow)
# Stamp `read_at` once: reading again keeps the first time.
_MARK_READ = Query(
    update(notifications)
    .where(
        notifications.c.id == bind("notification_id"),
        notifications.c.user_id == bind("user_id"),
        notifications.c.read_at.is_(None),
    )
    .values(read_at=_NOW)
)
_MARK_ALL_READ = Query(
    update(notifications)
    .where(notifications.c.user_id == bind("user_id"), notifications.c.read_at.is_(None))
    .values(read_at=_NOW)
)
_SESSION_DETAILS = Query(
    select(
        _sessions.c.id,
        _sessions.c.category,
        _sessions.c.difficulty,
        _sessions.c.type,
        _sessions.c.scheduled_at,
        _sessions.c.interviewer_id,
        _sessions.c.interviewee_id,
        _interviewer.c.name.label("interviewer_name"),
        _interviewee.c.name.label("interviewee_name"),
    )
    .select_from(
        _sessions.join(_interviewer, _interviewer.c.id == _sessions.c.interviewer_id).join(
            _interviewee, _interviewee.c.id == _sessions.c.interviewee_id
        )
    )
    .where(in_list(_sessions.c.id, "session_ids")),
    SessionDetails,
)
_REQUEST_DETAILS = Query(
    select(
        _requests.c.id,
        _requests.c.category,
        _requests.c.difficulty,
        _requests.c.type,
        _requests.c.scheduled_at,
        _requests.c.interviewee_id,
    ).where(in_list(_requests.c.id, "request_ids")),
    RequestDetails,
)
_WANTING_EMAIL = Query(
    select(_users.c.id).where(in_list(_users.c.id, "user_ids"), _users.c.email_notifications)
)
# SCHEDULED sessions starting within the lead that have no reminder yet, bounded by the
# (status, scheduled_at) index. A session accepted less than the lead before its start gets
# none: its people have just arranged it.
_DUE_REMINDERS = Query(
    select(
        _sessions.c.id,
        _sessions.c.interviewer_id,
        _sessions.c.interviewee_id,
        _sessions.c.scheduled_at,
    )
    .where(
        _sessions.c.status == SessionStatus.SCHEDULED,
        _sessions.c.scheduled_at > _NOW,
        _sessions.c.scheduled_at <= bind("horizon", _TIME),
        plus_seconds(_sessions.c.created_at, bind("lead_seconds")) <= _sessions.c.scheduled_at,
        ~exists().where(
            notifications.c.session_id == _sessions.c.id,
            notifications.c.kind == NotificationKind.SESSION_REMINDER,
        ),
    )
    .order_by(_sessions.c.scheduled_at, _sessions.c.id)
    .limit(bind("batch")),
    DueReminder,
)
_EMAIL_DUE = and_(
    notifications.c.email_status == EmailStatus.PENDING,
    or_(notifications.c.email_next_at.is_(None), notifications.c.email_next_at <= _NOW),
)
# One conditional UPDATE: two mailers (two processes) never take the same row, and a mailer
# that dies mid-send leaves its rows to be retried once the lease has passed.
_CLAIM_DUE_EMAILS = Query(
    update(notifications)
    .where(
        notifications.c.id.in_(
            select(notifications.c.id)
            .where(_EMAIL_DUE)
            .limit(bind("batch"))
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        ),
        _EMAIL_DUE,
    )
    .values(email_next_at=bind("lease_until", _TIME))
    .returning(*COLUMNS),
    NotificationRow,
)
_SET_EMAIL_STATE = Query(
    update(notifications)
    .where(notifications.c.id == bind("notification_id"))
    .values(
        email_status=bind("status"),
        email_attempts=bind("attempts"),
        email_next_at=bind("next_at", _TIME),
    )
)


async def insert_new(db: Connection, rows: list[dict[str, Any]]) -> list[NotificationRow]:
    """Insert `rows`, skipping any whose dedupe key exists; returns only those inserted.

    The unique dedupe key makes each notification exist once however many transactions
    (sweepers in several processes, say) try to create it at the same moment.
    """
    inserted: list[NotificationRow] = []
    for start in range(0, len(rows), INSERT_CHUNK):
        chunk = rows[start : start + INSERT_CHUNK]
        params = {f"{name}_{i}": row[name] for i, row in enumerate(chunk) for name in INSERTED}
        inserted += await db.all(_INSERT_NEW(len(chunk)), **params)
    return inserted


async def get(db: Connection, notification_id: str) -> NotificationRow | None:
    return await db.one(_GET, notification_id=notification_id)


async def list_for_user(
    db: Connection, *, user_id: str, unread: bool, cursor: list[Any] | None, limit: int
) -> list[NotificationRow]:
    params: dict[str, Any] = {"user_id": user_id, "limit": limit + 1}
    if cursor is not None:
        params.update(cursor_params(cursor))
    return await db.all(_LIST(unread, cursor is not None), **params)


async def mark_read(db: Connection, *, notification_id: str, user_id: str, now: datetime) -> None:
    await db.run(_MARK_READ, notification_id=notification_id, user_id=user_id, now=now)


async def mark_all_read(db: Connection, *, user_id: str, now: datetime) -> int:
    return await db.run(_MARK_ALL_READ, user_id=user_id, now=now)


async def session_details(db: Connection, session_ids: list[str]) -> list[SessionDetails]:
    return await db.all(_SESSION_DETAILS, session_ids=session_ids)


async def request_details(db: Connection, request_ids: list[str]) -> list[RequestDetails]:
    return await db.all(_REQUEST_DETAILS, request_ids=request_ids)


async def wanting_email(db: Connection, user_ids: list[str]) -> set[str]:
    """Those of `user_ids` who take notifications by e-mail."""
    return {row[0] for row in await db.all(_WANTING_EMAIL, user_ids=user_ids)}


async def sessions_due_reminder(
    db: Connection, *, now: datetime, lead_seconds: float, batch: int
) -> list[DueReminder]:
    return await db.all(
        _DUE_REMINDERS,
        now=now,
        horizon=now + timedelta(seconds=lead_seconds),
        lead_seconds=lead_seconds,
        batch=batch,
    )


async def claim_due_emails(
    db: Connection, *, now: datetime, lease_until: datetime, batch: int
) -> list[NotificationRow]:
    """Take a batch of e-mails to send by pushing their next attempt to `lease_until`."""
    return await db.all(_CLAIM_DUE_EMAILS, now=now, lease_until=lease_until, batch=batch)


async def set_email_state(
    db: Connection,
    *,
    notification_id: str,
    status: EmailStatus,
    attempts: int,
    next_at: datetime | None,
) -> None:
    await db.run(
        _SET_EMAIL_STATE,
        notification_id=notification_id,
        status=status,
        attempts=attempts,
        next_at=next_at,
    )
