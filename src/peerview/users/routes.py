"""HTTP routes of /api/users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from peerview.deps import DB, AdminUser, ClockDep, CurrentUser
from peerview.errors import Forbidden, InvalidToken, NotAuthenticated, problem_schema
from peerview.models.enums import Role
from peerview.pagination import DEFAULT_LIMIT, Cursor, Limit, Page
from peerview.users import service
from peerview.users.errors import UserNotFound, WrongCurrentPassword
from peerview.users.schemas import AdminUserUpdate, ProfileUpdate, PublicProfile, UserRead

router = APIRouter(prefix="/api/users", tags=["users"])

AUTH_ERRORS = (NotAuthenticated, InvalidToken)


@router.patch(
    "/me",
    response_model=UserRead,
    responses=problem_schema(*AUTH_ERRORS, WrongCurrentPassword),
    summary="Change my name, password or e-mail preference",
)
async def update_me(
    body: ProfileUpdate, actor: CurrentUser, db: DB, clock: ClockDep, request: Request
) -> UserRead:
    return await service.update_profile(
        db=db,
        now=clock.now(),
        actor=actor,
        changes=body,
        passwords=request.app.state.passwords,
    )


@router.get(
    "",
    response_model=Page[UserRead],
    responses=problem_schema(*AUTH_ERRORS, Forbidden),
    summary="List users (admin)",
)
async def list_users(
    _: AdminUser,
    db: DB,
    role: Annotated[Role | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[UserRead]:
    return await service.list_users(db=db, role=role, cursor=cursor, limit=limit)


@router.get(
    "/{user_id}",
    response_model=PublicProfile,
    responses=problem_schema(*AUTH_ERRORS, UserNotFound),
    summary="A user's public profile",
)
async def get_profile(user_id: str, _: CurrentUser, db: DB) -> PublicProfile:
    return await service.get_public(db=db, user_id=user_id)


@router.patch(
    "/{user_id}",
    response_model=UserRead,
    responses=problem_schema(*AUTH_ERRORS, Forbidden, UserNotFound),
    summary="Change a user's role or deactivate them (admin)",
)
async def admin_update(
    user_id: str, body: AdminUserUpdate, _: AdminUser, db: DB, clock: ClockDep
) -> UserRead:
    return await service.admin_update(db=db, now=clock.now(), user_id=user_id, changes=body)
