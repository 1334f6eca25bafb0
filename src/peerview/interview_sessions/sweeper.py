"""The sweeper: persists the transitions that time has already made, on a timer.

Reads never wait for it (they apply the same rules at read time); it exists so that the
stored rows, notifications and live events catch up. Each batch is one conditional
UPDATE in its own short transaction, so any number of server processes can sweep at
once and every transition still happens exactly once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from peerview.clock import Clock
from peerview.config import Settings
from peerview.db import Connection, Database, RowMapping
from peerview.events import EventBus, SessionChanged
from peerview.interview_requests import service as requests_service
from peerview.interview_sessions import repository
from peerview.interview_sessions.lifecycle import TRANSITIONS, Action, TimeRules
from peerview.interview_sessions.service import time_rules
from peerview.notifications import reminders
from peerview.users import service as users_service

logger = logging.getLogger(__name__)

Batch = Callable[[Connection], Awaitable[list[RowMapping]]]


@dataclass
class SweepResult:
    """Which rows this sweep transitioned: the hook point for whatever reacts to them."""

    expired_requests: list[RowMapping] = field(default_factory=list)
    auto_timed_out: list[RowMapping] = field(default_factory=list)
    no_shows: list[RowMapping] = field(default_factory=list)
    # SESSION_REMINDER notification rows this sweep created
    reminders: list[RowMapping] = field(default_factory=list)

    @property
    def total(self) -> int:
        return (
            len(self.expired_requests)
            + len(self.auto_timed_out)
            + len(self.no_shows)
            + len(self.reminders)
        )


async def _drain(database: Database, batch: Batch, size: int) -> list[RowMapping]:
    """Run `batch` in fresh transactions until a batch comes back short."""
    done: list[RowMapping] = []
    while True:
        async with database.transaction() as db:
            rows = await batch(db)
        done.extend(rows)
        if len(rows) < size:
            return done


async def _session_batch(
    db: Connection,
    *,
    action: Action,
    events: EventBus,
    now: datetime,
    rules: TimeRules,
    size: int,
) -> list[RowMapping]:
    transition = TRANSITIONS[action]
    end_reason = "AUTO_TIMEOUT" if action is Action.AUTO_TIMEOUT else "NO_SHOW"
    rows = await repository.persist_due(
        db,
        source=transition.source,
        target=transition.target,
        end_reason=end_reason,
        now=now,
        rules=rules,
        batch=size,
    )
    for row in rows:
        await events.publish(
            db,
            SessionChanged(
                event=transition.event,
                session_id=row["id"],
                interviewer_id=row["interviewer_id"],
                interviewee_id=row["interviewee_id"],
                end_reason=end_reason,
                actor_id=None,
                at=now,
            ),
        )
    return rows


async def sweep_once(
    *, database: Database, clock: Clock, settings: Settings, events: EventBus
) -> SweepResult:
    now = clock.now()
    rules = time_rules(settings)
    size = settings.sweeper_batch_size
    result = SweepResult()

    async def expire(db: Connection) -> list[RowMapping]:
        return await requests_service.expire_due(db=db, events=events, now=now, batch=size)

    async def timeouts(db: Connection) -> list[RowMapping]:
        return await _session_batch(
            db, action=Action.AUTO_TIMEOUT, events=events, now=now, rules=rules, size=size
        )

    async def no_shows(db: Connection) -> list[RowMapping]:
        return await _session_batch(
            db, action=Action.NO_SHOW, events=events, now=now, rules=rules, size=size
        )

    result.expired_requests = await _drain(database, expire, size)
    result.auto_timed_out = await _drain(database, timeouts, size)
    result.no_shows = await _drain(database, no_shows, size)
    result.reminders = await reminders.sweep(
        database=database, events=events, settings=settings, now=now, batch=size
    )
    async with database.transaction() as db:
        await users_service.purge_revoked_tokens(db=db, now=now)
    return result


async def run_forever(
    *,
    database: Database,
    clock: Clock,
    settings: Settings,
    events: EventBus,
    on_result: Callable[[SweepResult], None] | None = None,
    on_error: Callable[[BaseException], None] | None = None,
) -> None:
    """Sweep every CRON_INTERVAL_MINUTES until cancelled; an error waits for the next tick."""
    interval = settings.cron_interval_minutes * 60
    while True:
        try:
            result = await sweep_once(
                database=database, clock=clock, settings=settings, events=events
            )
            if result.total:
                logger.info(
                    "sweep: %d request(s) expired, %d session(s) timed out, %d no-show(s)",
                    len(result.expired_requests),
                    len(result.auto_timed_out),
                    len(result.no_shows),
                )
            if on_result is not None:
                on_result(result)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.exception("sweep failed; retrying at the next tick")
            if on_error is not None:
                on_error(exc)
        await asyncio.sleep(interval)
