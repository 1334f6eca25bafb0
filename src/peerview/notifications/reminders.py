"""SESSION_REMINDER: both participants are told 15 minutes before a session, by the sweeper.

Safe when several sweepers run at once: the query skips sessions already reminded, and the
unique dedupe key drops what a concurrent sweeper inserted first, so each reminder exists
(and is pushed and mailed) exactly once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from peerview.config import Settings
from peerview.db import Database, RowMapping
from peerview.events import EventBus
from peerview.notifications import repository
from peerview.notifications.service import Notifier, notifier_for, reminders_for

REMINDER_LEAD = timedelta(minutes=15)


async def sweep(
    *, database: Database, events: EventBus, settings: Settings, now: datetime, batch: int
) -> list[RowMapping]:
    """Create the reminders that are due; returns the notification rows this call created."""
    # Without a subscribed notifier (a bare bus) the rows are still stored, just not pushed.
    notifier = notifier_for(events) or Notifier(settings=settings)
    created: list[RowMapping] = []
    while True:
        async with database.transaction() as db:
            due = await repository.sessions_due_reminder(
                db, now=now, lead=REMINDER_LEAD, batch=batch
            )
            planned = [item for session in due for item in reminders_for(session)]
            created.extend(await notifier.create(db, planned, now=now))
        if len(due) < batch:
            return created
