"""HTTP routes of /api/users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from peerview.context import Admin, AnyUser, Authenticated, CheckedRoute, Ctx
from peerview.models.enums import Role
from peerview.openapi import answers
from peerview.pagination import DEFAULT_LIMIT, Cursor, InvalidCursor, Limit
from peerview.schemas import Page, respond
from peerview.users import service
from peerview.users.errors import LastAdmin, UserNotFound, WrongCurrentPassword
from peerview.users.schemas import AdminUserUpdate, ProfileUpdate, PublicProfile, UserRead

router = APIRouter(prefix="/api/users", tags=["users"], route_class=CheckedRoute)

# An admin changing a user: the service locks the active admins' rows (the caller's among
# them) in one order, so the token check must not lock the caller's row first.
AdminOfUsers = Annotated[Ctx, Depends(Authenticated(Role.ADMIN, lock_actor=False))]


@router.patch(
    "/me",
    **answers(UserRead, WrongCurrentPassword),
    summary="Change my name, password or e-mail preference",
    description=(
        "A password change (it needs `current_password`) revokes every token issued before "
        "it, the one used for this call included, and ends their Socket.IO connections "
        "(`access_revoked`, reason `password_changed`) on every server process."
    ),
)
async def update_me(body: ProfileUpdate, ctx: AnyUser) -> Response:
    return respond(await service.update_profile(ctx, changes=body))


@router.get(
    "",
    **answers(Page[UserRead], InvalidCursor),
    summary="List users (admin)",
)
async def list_users(
    ctx: Admin,
    role: Annotated[Role | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    return respond(await service.list_users(ctx, role=role, cursor=cursor, limit=limit))


@router.get(
    "/{user_id}",
    **answers(PublicProfile, UserNotFound),
    summary="A user's public profile",
)
async def get_profile(user_id: str, ctx: AnyUser) -> Response:
    return respond(await service.get_public(ctx, user_id=user_id))


@router.patch(
    "/{user_id}",
    **answers(UserRead, UserNotFound, LastAdmin),
    summary="Change a user's role or deactivate them (admin)",
    description=(
        "Only the fields sent change. Demoting or deactivating the last active admin is "
        "refused with 409 `LAST_ADMIN`, also when two admins remove each other at once: "
        "one of them stays. "
        "A deactivated user's tokens are refused from their next request on, and every "
        "Socket.IO connection of theirs is ended (`access_revoked`, reason `deactivated`) on "
        "every server process. A role change applies from the user's next request and ends "
        "no connection."
    ),
)
async def admin_update(user_id: str, body: AdminUserUpdate, ctx: AdminOfUsers) -> Response:
    return respond(await service.admin_update(ctx, user_id=user_id, changes=body))
