"""SQL for notifications, their e-mail delivery state, and the reminders that are due."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, or_, select, update

from peerview.db import Connection, RowMapping, insert_ignoring_conflicts, plus_seconds
from peerview.models import InterviewRequest, InterviewSession, Notification, User
from peerview.models.base import table_of
from peerview.models.enums import EmailStatus, NotificationKind, SessionStatus
from peerview.pagination import after

notifications = table_of(Notification)
_sessions = table_of(InterviewSession)
_requests = table_of(InterviewRequest)
_users = table_of(User)
_interviewer = _users.alias("interviewer")
_interviewee = _users.alias("interviewee")

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


async def insert_new(db: Connection, rows: list[dict[str, Any]]) -> list[RowMapping]:
    """Insert `rows`, skipping any whose dedupe key exists; returns only those inserted.

    The unique dedupe key makes each notification exist once however many transactions
    (sweepers in several processes, say) try to create it at the same moment.
    """
    if not rows:
        return []
    statement = (
        insert_ignoring_conflicts(db.dialect, notifications).values(rows).returning(*COLUMNS)
    )
    result = await db.execute(statement)
    return list(result.mappings().all())


async def get(db: Connection, notification_id: str) -> RowMapping | None:
    result = await db.execute(select(*COLUMNS).where(notifications.c.id == notification_id))
    row: RowMapping | None = result.mappings().first()
    return row


async def list_for_user(
    db: Connection,
    *,
    user_id: str,
    unread: bool,
    cursor: list[Any] | None,
    limit: int,
) -> list[RowMapping]:
    order = (notifications.c.created_at, notifications.c.id)
    query = (
        select(*COLUMNS)
        .where(notifications.c.user_id == user_id)
        .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
        .limit(limit + 1)
    )
    if unread:
        query = query.where(notifications.c.read_at.is_(None))
    if cursor is not None:
        query = query.where(after(order, cursor, descending=True))
    result = await db.execute(query)
    return list(result.mappings().all())


async def mark_read(db: Connection, *, notification_id: str, user_id: str, now: datetime) -> None:
    """Stamp `read_at` once: reading again keeps the first time."""
    await db.execute(
        update(notifications)
        .where(
            notifications.c.id == notification_id,
            notifications.c.user_id == user_id,
            notifications.c.read_at.is_(None),
        )
        .values(read_at=now)
    )


async def mark_all_read(db: Connection, *, user_id: str, now: datetime) -> int:
    result = await db.execute(
        update(notifications)
        .where(notifications.c.user_id == user_id, notifications.c.read_at.is_(None))
        .values(read_at=now)
    )
    return result.rowcount or 0


async def session_details(db: Connection, session_id: str) -> RowMapping | None:
    """What a notification about a session says: its subject, time and people."""
    query = select(
        _sessions.c.id,
        _sessions.c.category,
        _sessions.c.difficulty,
        _sessions.c.type,
        _sessions.c.scheduled_at,
        _sessions.c.interviewer_id,
        _sessions.c.interviewee_id,
        _interviewer.c.name.label("interviewer_name"),
        _interviewee.c.name.label("interviewee_name"),
    ).select_from(
        _sessions.join(_interviewer, _interviewer.c.id == _sessions.c.interviewer_id).join(
            _interviewee, _interviewee.c.id == _sessions.c.interviewee_id
        )
    )
    result = await db.execute(query.where(_sessions.c.id == session_id))
    row: RowMapping | None = result.mappings().first()
    return row


async def request_details(db: Connection, request_id: str) -> RowMapping | None:
    query = select(
        _requests.c.id,
        _requests.c.category,
        _requests.c.difficulty,
        _requests.c.type,
        _requests.c.scheduled_at,
        _requests.c.interviewee_id,
    ).where(_requests.c.id == request_id)
    result = await db.execute(query)
    row: RowMapping | None = result.mappings().first()
    return row


async def sessions_due_reminder(
    db: Connection, *, now: datetime, lead: timedelta, batch: int
) -> list[RowMapping]:
    """SCHEDULED sessions starting within `lead` that have no reminder yet.

    Bounded by the (status, scheduled_at) index. A session accepted less than `lead` before
    its start gets none: its people have just arranged it.
    """
    reminded = exists().where(
        notifications.c.session_id == _sessions.c.id,
        notifications.c.kind == NotificationKind.SESSION_REMINDER,
    )
    accepted_in_time = (
        plus_seconds(_sessions.c.created_at, lead.total_seconds()) <= _sessions.c.scheduled_at
    )
    query = (
        select(
            _sessions.c.id,
            _sessions.c.interviewer_id,
            _sessions.c.interviewee_id,
            _sessions.c.scheduled_at,
        )
        .where(
            _sessions.c.status == SessionStatus.SCHEDULED,
            _sessions.c.scheduled_at > now,
            _sessions.c.scheduled_at <= now + lead,
            accepted_in_time,
            ~reminded,
        )
        .order_by(_sessions.c.scheduled_at, _sessions.c.id)
        .limit(batch)
    )
    result = await db.execute(query)
    return list(result.mappings().all())


def _email_due(now: datetime) -> Any:
    return and_(
        notifications.c.email_status == EmailStatus.PENDING,
        or_(notifications.c.email_next_at.is_(None), notifications.c.email_next_at <= now),
    )


async def claim_due_emails(
    db: Connection, *, now: datetime, lease_until: datetime, batch: int
) -> list[RowMapping]:
    """Take a batch of e-mails to send by pushing their next attempt to `lease_until`.

    One conditional UPDATE: two mailers (two processes) never take the same row, and a
    mailer that dies mid-send leaves its rows to be retried once the lease has passed.
    """
    candidates = select(notifications.c.id).where(_email_due(now)).limit(batch)
    if db.dialect == "postgresql":
        candidates = candidates.with_for_update(skip_locked=True)
    result = await db.execute(
        update(notifications)
        .where(notifications.c.id.in_(candidates.scalar_subquery()), _email_due(now))
        .values(email_next_at=lease_until)
        .returning(*COLUMNS)
    )
    return list(result.mappings().all())


async def set_email_state(
    db: Connection,
    *,
    notification_id: str,
    status: EmailStatus,
    attempts: int,
    next_at: datetime | None,
) -> None:
    await db.execute(
        update(notifications)
        .where(notifications.c.id == notification_id)
        .values(email_status=status, email_attempts=attempts, email_next_at=next_at)
    )
