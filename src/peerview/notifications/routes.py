"""HTTP routes of /api/notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from peerview.context import AnyUser, CheckedRoute
from peerview.notifications import service
from peerview.notifications.errors import NotificationNotFound
from peerview.notifications.schemas import NotificationRead, ReadAllResult
from peerview.openapi import answers
from peerview.pagination import DEFAULT_LIMIT, Cursor, InvalidCursor, Limit
from peerview.schemas import Page, respond

router = APIRouter(prefix="/api/notifications", tags=["notifications"], route_class=CheckedRoute)


@router.get(
    "",
    **answers(Page[NotificationRead], InvalidCursor),
    summary="My notifications, newest first",
)
async def list_notifications(
    ctx: AnyUser,
    unread: Annotated[bool, Query(description="Only those not read yet.")] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    return respond(await service.list_mine(ctx, unread=unread, cursor=cursor, limit=limit))


@router.post("/read-all", **answers(ReadAllResult), summary="Mark all my notifications read")
async def read_all(ctx: AnyUser) -> Response:
    return respond(ReadAllResult(updated=await service.mark_all_read(ctx)))


@router.post(
    "/{notification_id}/read",
    **answers(NotificationRead, NotificationNotFound),
    summary="Mark one of my notifications read",
)
async def read_one(notification_id: str, ctx: AnyUser) -> Response:
    return respond(await service.mark_read(ctx, notification_id=notification_id))
