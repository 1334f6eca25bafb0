"""The application's services, made once at start-up and handed to whatever needs them.

`peerview.main.create_app` builds one `Services` and every request's context carries it, so
a feature reaches the database, the clock or the password hasher through a typed attribute,
never by a string lookup. The parts that sit above the features (the Socket.IO server, the
mailer) are described here by what the others need of them, so this module imports no
feature that would import it back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from peerview.auth.login_throttle import LoginThrottle
from peerview.auth.passwords import PasswordService
from peerview.auth.throttle import WriteRateLimit
from peerview.clock import Clock
from peerview.config import Settings
from peerview.db import Database
from peerview.events import EventBus
from peerview.interview_sessions.lifecycle import TimeRules
from peerview.notifications.notifier import Notifier

if TYPE_CHECKING:
    from redis.asyncio import Redis


class MailQueue(Protocol):
    """The background sender of notification e-mails."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...

    def kick(self) -> None:
        """Start delivering pending e-mails soon, without waiting for them."""
        ...


class Realtime(Protocol):
    """The Socket.IO server (`peerview.realtime.server.Realtime`)."""

    @property
    def sio(self) -> Any: ...

    async def close(self) -> None: ...


class Practice(Protocol):
    """The AI interviewer of practice sessions (`peerview.practice.interviewer.Interviewer`)."""

    def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    clock: Clock
    database: Database
    events: EventBus
    rules: TimeRules
    passwords: PasswordService
    login_throttle: LoginThrottle
    write_limit: WriteRateLimit
    redis: Redis | None
    notifier: Notifier
    mailer: MailQueue
    realtime: Realtime
    practice: Practice
