"""HTTP routes of /api/notifications."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from peerview.deps import DB, ClockDep, CurrentUser
from peerview.errors import InvalidToken, NotAuthenticated, problem_schema
from peerview.notifications import service
from peerview.notifications.errors import NotificationNotFound
from peerview.notifications.schemas import NotificationRead, ReadAllResult
from peerview.pagination import DEFAULT_LIMIT, Cursor, InvalidCursor, Limit, Page

router = APIRouter(prefix="/api/notifications", tags=["notifications"])

AUTH = (NotAuthenticated, InvalidToken)


@router.get(
    "",
    response_model=Page[NotificationRead],
    responses=problem_schema(*AUTH, InvalidCursor),
    summary="My notifications, newest first",
)
async def list_notifications(
    actor: CurrentUser,
    db: DB,
    unread: Annotated[bool, Query(description="Only those not read yet.")] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[NotificationRead]:
    return await service.list_mine(db=db, actor=actor, unread=unread, cursor=cursor, limit=limit)


@router.post(
    "/read-all",
    response_model=ReadAllResult,
    responses=problem_schema(*AUTH),
    summary="Mark all my notifications read",
)
async def read_all(actor: CurrentUser, db: DB, clock: ClockDep) -> ReadAllResult:
    updated = await service.mark_all_read(db=db, actor=actor, now=clock.now())
    return ReadAllResult(updated=updated)


@router.post(
    "/{notification_id}/read",
    response_model=NotificationRead,
    responses=problem_schema(*AUTH, NotificationNotFound),
    summary="Mark one of my notifications read",
)
async def read_one(
    notification_id: str, actor: CurrentUser, db: DB, clock: ClockDep
) -> NotificationRead:
    return await service.mark_read(
        db=db, actor=actor, notification_id=notification_id, now=clock.now()
    )
