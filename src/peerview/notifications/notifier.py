"""Who is told what about each domain event: notifications stored once, then pushed and mailed.

`Notifier.on_events` runs inside the transaction that made the change, so a notification
exists exactly when the change does. What leaves the process (the realtime push, the
e-mail) happens after commit, and only for the rows this transaction really inserted.
However many events a call carries (a sweeper batch's), their notifications cost one query
for what they are about, one for who takes e-mail, and the inserts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from peerview.config import Settings
from peerview.db import Connection
from peerview.events import FeedbackSubmitted, RequestAccepted, RequestExpired, SessionChanged
from peerview.models.base import new_id
from peerview.models.enums import EmailStatus, EndReason, NotificationKind
from peerview.notifications import repository
from peerview.notifications.repository import (
    DueReminder,
    NotificationRow,
    RequestDetails,
    SessionDetails,
)
from peerview.notifications.schemas import NotificationRead

Push = Callable[[str, NotificationRead], Awaitable[None]]


class MailQueue(Protocol):
    def kick(self) -> None:
        """Start delivering pending e-mails soon, without waiting for them."""
        ...


@dataclass(frozen=True, slots=True)
class Planned:
    """One notification to create: its kind, recipient, and what it is about."""

    kind: NotificationKind
    user_id: str
    subject_id: str  # the request, session or feedback; part of the dedupe key
    session_id: str | None = None
    request_id: str | None = None
    end_reason: str | None = None

    @property
    def dedupe_key(self) -> str:
        return f"{self.kind.value}:{self.subject_id}:{self.user_id}"


def planned_for(event: object) -> list[Planned]:
    """The notifications a domain event calls for (docs/api.md §9): pure, no I/O."""
    if isinstance(event, RequestAccepted):
        return [
            Planned(
                NotificationKind.REQUEST_ACCEPTED,
                event.interviewee_id,
                event.request_id,
                session_id=event.session_id,
                request_id=event.request_id,
            )
        ]
    if isinstance(event, RequestExpired):
        return [
            Planned(
                NotificationKind.REQUEST_EXPIRED,
                event.interviewee_id,
                event.request_id,
                request_id=event.request_id,
            )
        ]
    if isinstance(event, FeedbackSubmitted):
        return [
            Planned(
                NotificationKind.FEEDBACK_RECEIVED,
                event.subject_id,
                event.feedback_id,
                session_id=event.session_id,
            )
        ]
    if isinstance(event, SessionChanged):
        return _for_session(event)
    return []


def _for_session(event: SessionChanged) -> list[Planned]:
    if event.interviewer_id is None:  # a practice session notifies nobody (docs/api.md §13)
        return []
    both = (event.interviewer_id, event.interviewee_id)
    recipients: tuple[str, ...]
    if event.event == "started":
        kind, recipients = NotificationKind.SESSION_STARTED, (event.interviewee_id,)
    elif event.event == "ended":
        kind, recipients = NotificationKind.SESSION_ENDED, both
    elif event.event == "cancelled":
        kind = NotificationKind.SESSION_CANCELLED
        # A no-show is nobody's doing: both are told. Otherwise the one who did not cancel.
        recipients = (
            both if event.actor_id is None else tuple(u for u in both if u != event.actor_id)
        )
    else:  # "extended", "questions": the participants see it live; nobody is notified
        return []
    return [
        Planned(
            kind,
            user_id,
            event.session_id,
            session_id=event.session_id,
            end_reason=event.end_reason,
        )
        for user_id in recipients
    ]


def _about(planned: Planned) -> str:
    """The session or request a notification is about."""
    return planned.session_id or planned.request_id or planned.subject_id


def reminders_for(session: DueReminder) -> list[Planned]:
    return [
        Planned(NotificationKind.SESSION_REMINDER, user_id, session.id, session_id=session.id)
        for user_id in (session.interviewer_id, session.interviewee_id)
    ]


def _when(value: datetime) -> str:
    return f"{value:%a %d %b %Y, %H:%M} UTC"


def _compose(planned: Planned, details: SessionDetails | RequestDetails | None) -> tuple[str, str]:
    """Title and body. Feedback stays sealed (docs/api.md §7): the body never carries its
    content."""
    if details is None:  # the subject vanished meanwhile; say what kind of thing happened
        return planned.kind.value.replace("_", " ").capitalize(), ""
    topic = f"{details.category} ({details.difficulty.lower()})"
    when = _when(details.scheduled_at)
    other = ""
    if isinstance(details, SessionDetails):
        is_interviewer = planned.user_id == details.interviewer_id
        other = details.interviewee_name if is_interviewer else details.interviewer_name
    kind = planned.kind
    if kind is NotificationKind.REQUEST_ACCEPTED:
        return (
            "Your interview request was accepted",
            f"{other} will interview you on {topic} on {when}.",
        )
    if kind is NotificationKind.REQUEST_EXPIRED:
        return (
            "Your interview request expired",
            f"Nobody accepted your {topic} request for {when} in time.",
        )
    if kind is NotificationKind.SESSION_REMINDER:
        return (
            "Your mock interview starts in 15 minutes",
            f"{topic} with {other}, {when}.",
        )
    if kind is NotificationKind.SESSION_STARTED:
        return ("Your mock interview has started", f"{other} has started the {topic} session.")
    if kind is NotificationKind.SESSION_CANCELLED:
        if planned.end_reason == EndReason.NO_SHOW:
            body = f"The {topic} session of {when} was not started in time and is cancelled."
        else:
            body = f"{other} cancelled the {topic} session of {when}."
        return ("Your mock interview was cancelled", body)
    if kind is NotificationKind.SESSION_ENDED:
        return (
            "Your mock interview has ended",
            f"The {topic} session with {other} has ended. Your feedback helps them improve.",
        )
    return (
        "You received feedback",
        f"{other} left feedback on your {topic} session of {when}. You can read it once you "
        "have given yours, or 72 hours after the session ended.",
    )


def read(row: NotificationRow) -> NotificationRead:
    return NotificationRead(
        id=row.id,
        kind=row.kind,
        session_id=row.session_id,
        request_id=row.request_id,
        title=row.title,
        body=row.body,
        created_at=row.created_at,
        read_at=row.read_at,
    )


class Notifier:
    """Creates notification rows in the caller's transaction; pushes and mails after commit."""

    def __init__(
        self, *, settings: Settings, mailer: MailQueue | None = None, push: Push | None = None
    ) -> None:
        self.settings = settings
        self.mailer = mailer
        self.push = push

    async def on_events(self, db: Connection, events: Sequence[Any]) -> None:
        by_moment: dict[datetime, list[Planned]] = {}
        for event in events:
            planned = planned_for(event)
            if planned:
                by_moment.setdefault(event.at, []).extend(planned)
        for at, planned in by_moment.items():
            await self.create(db, planned, now=at)

    async def create(
        self, db: Connection, planned: list[Planned], *, now: datetime
    ) -> list[NotificationRow]:
        """Insert what does not exist yet; returns the rows this call inserted."""
        if not planned:
            return []
        details = await self._details(db, planned)
        wanting = (
            await repository.wanting_email(db, sorted({p.user_id for p in planned}))
            if self.settings.smtp_url
            else set()
        )
        values: list[dict[str, Any]] = []
        for item in planned:
            title, body = _compose(item, details.get(_about(item)))
            email = EmailStatus.PENDING if item.user_id in wanting else EmailStatus.NONE
            values.append(
                {
                    "id": new_id(),
                    "user_id": item.user_id,
                    "kind": item.kind.value,
                    "session_id": item.session_id,
                    "request_id": item.request_id,
                    "dedupe_key": item.dedupe_key,
                    "title": title,
                    "body": body,
                    "created_at": now,
                    "read_at": None,
                    "email_status": email.value,
                    "email_attempts": 0,
                    "email_next_at": None,
                }
            )
        rows = await repository.insert_new(db, values)
        if rows:
            created = [(r.user_id, read(r)) for r in rows]
            mail = any(r.email_status == EmailStatus.PENDING for r in rows)

            async def deliver() -> None:
                await self._deliver(created, mail=mail)

            db.after_commit(deliver)
        return rows

    @staticmethod
    async def _details(
        db: Connection, planned: list[Planned]
    ) -> dict[str, SessionDetails | RequestDetails]:
        """What each planned notification is about, by id: one query per kind of subject."""
        session_ids = sorted({p.session_id for p in planned if p.session_id})
        request_ids = sorted({_about(p) for p in planned if not p.session_id})
        found: dict[str, SessionDetails | RequestDetails] = {}
        if session_ids:
            found.update((d.id, d) for d in await repository.session_details(db, session_ids))
        if request_ids:
            found.update((d.id, d) for d in await repository.request_details(db, request_ids))
        return found

    async def _deliver(self, created: list[tuple[str, NotificationRead]], *, mail: bool) -> None:
        if mail and self.mailer is not None:
            self.mailer.kick()
        if self.push is not None:
            for user_id, notification in created:
                await self.push(user_id, notification)
