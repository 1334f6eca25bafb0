"""The sweeper: persists the transitions that time has already made, on a timer.

Reads never wait for it (they apply the same rules at read time); it exists so that the
stored rows, notifications and live events catch up. Each feature gives it one bounded
batch of its own work (expired requests, timed-out and no-show sessions, reminders, stale
revocations), run in short transactions until a batch comes back short, so any number of
server processes can sweep at once and every transition still happens exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from peerview.clock import Clock
from peerview.config import Settings
from peerview.db import Connection, Database
from peerview.events import EventBus
from peerview.interview_requests import service as requests_service
from peerview.interview_requests.repository import Expired
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.lifecycle import Action, time_rules
from peerview.interview_sessions.repository import Transitioned
from peerview.metrics import SWEEPER_ERRORS, SWEEPER_RUNS, SWEEPER_TRANSITIONS
from peerview.notifications import reminders
from peerview.notifications.notifier import Notifier
from peerview.notifications.repository import DueReminder, NotificationRow
from peerview.services import Services
from peerview.users import service as users_service

logger = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class SweepResult:
    """What this sweep moved on: the hook point for whatever reacts to it."""

    expired_requests: list[Expired] = field(default_factory=list)
    auto_timed_out: list[Transitioned] = field(default_factory=list)
    no_shows: list[Transitioned] = field(default_factory=list)
    # SESSION_REMINDER notification rows this sweep created
    reminders: list[NotificationRow] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            len(self.expired_requests)
            + len(self.auto_timed_out)
            + len(self.no_shows)
            + len(self.reminders)
        )


async def _drain(
    database: Database, batch: Callable[[Connection], Awaitable[list[T]]], size: int
) -> list[T]:
    """Run `batch` in fresh transactions until a batch comes back short."""
    done: list[T] = []
    while True:
        async with database.transaction() as db:
            rows = await batch(db)
        done.extend(rows)
        if len(rows) < size:
            return done


async def sweep_once(
    *,
    database: Database,
    clock: Clock,
    settings: Settings,
    events: EventBus,
    notifier: Notifier | None = None,
) -> SweepResult:
    """One sweep. Without a notifier (a bare event bus) reminders are stored, not pushed."""
    now = clock.now()
    rules = time_rules(settings)
    size = settings.sweeper_batch_size
    notifier = notifier or Notifier(settings=settings)
    result = SweepResult()

    async def expire(db: Connection) -> list[Expired]:
        return await requests_service.expire_due(db=db, events=events, now=now, batch=size)

    def sessions(action: Action) -> Callable[[Connection], Awaitable[list[Transitioned]]]:
        async def batch(db: Connection) -> list[Transitioned]:
            return await sessions_service.persist_due(
                db=db, events=events, action=action, now=now, rules=rules, batch=size
            )

        return batch

    created: list[NotificationRow] = []

    async def remind(db: Connection) -> list[DueReminder]:
        due, rows = await reminders.remind_due(db=db, notifier=notifier, now=now, batch=size)
        created.extend(rows)
        return due

    result.expired_requests = await _drain(database, expire, size)
    result.auto_timed_out = await _drain(database, sessions(Action.AUTO_TIMEOUT), size)
    result.no_shows = await _drain(database, sessions(Action.NO_SHOW), size)
    await _drain(database, remind, size)
    result.reminders = created
    async with database.transaction() as db:
        await users_service.purge_revoked_tokens(db=db, now=now)
    return result


def record(result: SweepResult) -> None:
    SWEEPER_RUNS.inc()
    SWEEPER_TRANSITIONS.labels("request_expired").inc(len(result.expired_requests))
    SWEEPER_TRANSITIONS.labels("auto_timeout").inc(len(result.auto_timed_out))
    SWEEPER_TRANSITIONS.labels("no_show").inc(len(result.no_shows))


def record_error(_: BaseException) -> None:
    SWEEPER_RUNS.inc()
    SWEEPER_ERRORS.inc()


async def run_forever(
    services: Services,
    *,
    on_result: Callable[[SweepResult], None] = record,
    on_error: Callable[[BaseException], None] = record_error,
) -> None:
    """Sweep every CRON_INTERVAL_MINUTES until cancelled; an error waits for the next tick."""
    interval = services.settings.cron_interval_minutes * 60
    while True:
        try:
            result = await sweep_once(
                database=services.database,
                clock=services.clock,
                settings=services.settings,
                events=services.events,
                notifier=services.notifier,
            )
            if result.total:
                logger.info(
                    "sweep: %d request(s) expired, %d session(s) timed out, %d no-show(s)",
                    len(result.expired_requests),
                    len(result.auto_timed_out),
                    len(result.no_shows),
                )
            on_result(result)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("sweep failed; retrying at the next tick")
            on_error(exc)
        await asyncio.sleep(interval)
