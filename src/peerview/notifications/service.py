"""A user's notifications: listed newest first, marked read one by one or all at once."""

from __future__ import annotations

from datetime import datetime

from peerview.context import Ctx
from peerview.notifications import repository
from peerview.notifications.errors import NotificationNotFound
from peerview.notifications.notifier import read
from peerview.notifications.schemas import NotificationRead
from peerview.pagination import decode_cursor, page_of
from peerview.schemas import Page


async def list_mine(
    ctx: Ctx, *, unread: bool, cursor: str | None, limit: int
) -> Page[NotificationRead]:
    rows = await repository.list_for_user(
        ctx.db,
        user_id=ctx.actor.id,
        unread=unread,
        cursor=decode_cursor(cursor, datetime, str),
        limit=limit,
    )
    return page_of([read(r) for r in rows], limit, lambda n: (n.created_at, n.id))


async def mark_read(ctx: Ctx, *, notification_id: str) -> NotificationRead:
    await repository.mark_read(
        ctx.db, notification_id=notification_id, user_id=ctx.actor.id, now=ctx.now
    )
    row = await repository.get(ctx.db, notification_id)
    # Someone else's notification is indistinguishable from a missing one.
    if row is None or row.user_id != ctx.actor.id:
        raise NotificationNotFound()
    return read(row)


async def mark_all_read(ctx: Ctx) -> int:
    return await repository.mark_all_read(ctx.db, user_id=ctx.actor.id, now=ctx.now)
