"""E-mail delivery of notifications: a retrying background sender over SMTP (aiosmtplib).

A notification created while SMTP_URL is set, for a user who wants e-mail, is stored with
`email_status = PENDING`. The mailer sends pending rows after the commit that created them
and on a timer; a failure never reaches the request that caused the notification: the row
is retried with backoff, and given up (FAILED) after MAX_ATTEMPTS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

import aiosmtplib

from peerview.clock import Clock
from peerview.config import Settings
from peerview.db import Database
from peerview.interview_sessions import calendar
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.lifecycle import time_rules
from peerview.models.enums import EmailStatus, NotificationKind
from peerview.notifications import repository
from peerview.notifications.repository import NotificationRow
from peerview.users import service as users_service

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
# How long a claimed row stays out of other mailers' reach while it is being sent.
LEASE = timedelta(minutes=5)
BATCH = 50

Send = Callable[[EmailMessage], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class SmtpTarget:
    hostname: str
    port: int
    username: str | None
    password: str | None
    use_tls: bool
    start_tls: bool | None  # None: STARTTLS when the server offers it


def parse_smtp_url(url: str) -> SmtpTarget:
    """`smtp://[user:password@]host[:port][?starttls=true|false]` or `smtps://…` (implicit TLS)."""
    parts = urlsplit(url)
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
        raise ValueError("SMTP_URL must look like smtp://host:port or smtps://host:port")
    implicit_tls = parts.scheme == "smtps"
    flag = parse_qs(parts.query).get("starttls", [""])[0].lower()
    start_tls = {"true": True, "1": True, "false": False, "0": False}.get(flag)
    return SmtpTarget(
        hostname=parts.hostname,
        port=parts.port or (465 if implicit_tls else 25),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_tls=implicit_tls,
        start_tls=False if implicit_tls else start_tls,
    )


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the `attempts`-th failure: 1, 2, 4 … minutes, at most an hour."""
    return min(FIRST_RETRY * (1 << min(max(attempts - 1, 0), 16)), LONGEST_RETRY)


class Mailer:
    def __init__(
        self,
        *,
        database: Database,
        clock: Clock,
        settings: Settings,
        send: Send | None = None,
    ) -> None:
        self.database = database
        self.clock = clock
        self.settings = settings
        self._target = parse_smtp_url(settings.smtp_url) if settings.smtp_url else None
        self._send = send or self._send_smtp
        self._kicked: asyncio.Task[None] | None = None
        self._again = False
        self._loop: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self._target is not None

    async def _send_smtp(self, message: EmailMessage) -> None:
        target = self._target
        assert target is not None
        await aiosmtplib.send(
            message,
            hostname=target.hostname,
            port=target.port,
            username=target.username,
            password=target.password,
            use_tls=target.use_tls,
            start_tls=target.start_tls,
            timeout=self.settings.smtp_timeout_seconds,
        )

    def kick(self) -> None:
        """Deliver what is pending soon, in the background: callers never wait for SMTP."""
        if not self.enabled:
            return
        if self._kicked is not None and not self._kicked.done():
            self._again = True  # the running pass may have missed rows committed just now
            return
        self._kicked = asyncio.create_task(self._kicked_passes(), name="peerview-mail-kick")

    async def _kicked_passes(self) -> None:
        while True:
            self._again = False
            try:
                await self.deliver_due()
            except Exception:
                logger.exception("e-mail delivery pass failed; the timer will retry")
            if not self._again:
                return

    async def idle(self) -> None:
        """Wait until the delivery started by the last kick has finished."""
        while self._kicked is not None and not self._kicked.done():
            await asyncio.wait({self._kicked})

    async def deliver_due(self) -> int:
        """Send every e-mail whose time has come; returns how many were sent."""
        if not self.enabled:
            return 0
        sent = 0
        while True:
            now = self.clock.now()
            async with self.database.transaction() as db:
                rows = await repository.claim_due_emails(
                    db, now=now, lease_until=now + LEASE, batch=BATCH
                )
            for row in rows:
                sent += await self._deliver(row)
            if len(rows) < BATCH:
                return sent

    async def _deliver(self, row: NotificationRow) -> int:
        try:
            message = await self._compose(row)
            if message is None:
                await self._record(row, EmailStatus.NONE, attempts=row.email_attempts)
                return 0
            await self._send(message)
        except Exception as exc:
            logger.warning("e-mail of notification %s failed: %r", row.id, exc)
            attempts = row.email_attempts + 1
            if attempts >= MAX_ATTEMPTS:
                await self._record(row, EmailStatus.FAILED, attempts=attempts)
            else:
                retry_at = self.clock.now() + retry_delay(attempts)
                await self._record(row, EmailStatus.PENDING, attempts=attempts, next_at=retry_at)
            return 0
        await self._record(row, EmailStatus.SENT, attempts=row.email_attempts + 1)
        return 1

    async def _record(
        self,
        row: NotificationRow,
        status: EmailStatus,
        *,
        attempts: int,
        next_at: datetime | None = None,
    ) -> None:
        async with self.database.transaction() as db:
            await repository.set_email_state(
                db, notification_id=row.id, status=status, attempts=attempts, next_at=next_at
            )

    async def _compose(self, row: NotificationRow) -> EmailMessage | None:
        """The message for a notification row; None when its user no longer wants e-mail."""
        now = self.clock.now()
        ics: str | None = None
        async with self.database.transaction(write=False) as db:
            user = await users_service.viewer(db=db, user_id=row.user_id, now=now)
            if user is None or not user.email_notifications or not user.is_active:
                return None
            if row.kind == NotificationKind.SESSION_REMINDER and row.session_id:
                rules = time_rules(self.settings)
                session_row = await sessions_service.load_visible(
                    db=db, actor=user, session_id=row.session_id
                )
                session = await sessions_service.read(
                    db=db, actor=user, row=session_row, now=now, rules=rules
                )
                ics = calendar.session_event(
                    session,
                    version=session_row.version,
                    stored_status=session_row.status,
                    now=now,
                )
        message = EmailMessage()
        message["From"] = self.settings.smtp_from
        message["To"] = user.email
        message["Subject"] = row.title
        message.set_content(
            f"Hello {user.name},\n\n{row.body}\n\n"
            "— Peerview\n"
            "(You can turn these e-mails off in your profile: email_notifications.)\n"
        )
        if ics is not None:
            message.add_attachment(
                ics,
                subtype="calendar",
                filename=f"peerview-{row.session_id}.ics",
                params={"method": "PUBLISH"},
            )
        return message

    async def run_forever(self) -> None:
        """Deliver due e-mails every MAILER_INTERVAL_SECONDS until cancelled."""
        while True:
            try:
                await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("e-mail delivery pass failed; retrying at the next tick")
            await asyncio.sleep(self.settings.mailer_interval_seconds)

    def start(self) -> None:
        if self.enabled and self._loop is None:
            self._loop = asyncio.create_task(self.run_forever(), name="peerview-mailer")

    async def stop(self) -> None:
        for task in (self._loop, self._kicked):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        self._loop = None
        self._kicked = None
