"""SESSION_REMINDER: both participants are told 15 minutes before a session, by the sweeper.

Safe when several sweepers run at once: the query skips sessions already reminded, and the
unique dedupe key drops what a concurrent sweeper inserted first, so each reminder exists
(and is pushed and mailed) exactly once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from peerview.db import Connection
from peerview.notifications import repository
from peerview.notifications.notifier import Notifier, reminders_for
from peerview.notifications.repository import DueReminder, NotificationRow

REMINDER_LEAD = timedelta(minutes=15)


async def remind_due(
    *, db: Connection, notifier: Notifier, now: datetime, batch: int
) -> tuple[list[DueReminder], list[NotificationRow]]:
    """One batch of due reminders: (the sessions reminded, the notification rows created)."""
    due = await repository.sessions_due_reminder(
        db, now=now, lead_seconds=REMINDER_LEAD.total_seconds(), batch=batch
    )
    planned = [item for session in due for item in reminders_for(session)]
    return due, await notifier.create(db, planned, now=now)
