"""Users: registration rows, profiles, admin changes; the rules about who may see what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from peerview.actor import Actor
from peerview.context import Ctx
from peerview.db import Connection, IntegrityError
from peerview.errors import Forbidden
from peerview.events import AccessChanged
from peerview.models.base import new_id
from peerview.models.enums import Role
from peerview.pagination import decode_cursor, page_of
from peerview.schemas import Page
from peerview.tokens import TokenClaims
from peerview.users import repository
from peerview.users.errors import EmailTaken, LastAdmin, UserNotFound, WrongCurrentPassword
from peerview.users.repository import Credentials, UserRow
from peerview.users.schemas import AdminUserUpdate, ProfileUpdate, PublicProfile, UserRead


def normalise_email(email: str) -> str:
    return email.strip().lower()


def read(row: UserRow | Credentials | Actor) -> UserRead:
    return UserRead(
        id=row.id,
        name=row.name,
        email=row.email,
        role=row.role,
        is_active=row.is_active,
        email_notifications=row.email_notifications,
        created_at=row.created_at,
    )


async def create(
    *,
    db: Connection,
    now: datetime,
    name: str,
    email: str,
    password_hash: str,
    role: Role,
) -> UserRow:
    email = normalise_email(email)
    if await repository.get_credentials_by_email(db, email) is not None:
        raise EmailTaken()
    try:
        return await repository.insert_user(
            db,
            id=new_id(),
            name=name,
            email=email,
            password_hash=password_hash,
            role=role.value,
            now=now,
        )
    except IntegrityError as exc:
        # Two registrations racing for one e-mail: the unique index decides (the 409 rolls
        # the whole transaction back).
        raise EmailTaken() from exc


async def find_credentials(*, db: Connection, email: str) -> Credentials | None:
    return await repository.get_credentials_by_email(db, normalise_email(email))


async def admin_exists(*, db: Connection) -> bool:
    """Whether any account has the ADMIN role, active or not."""
    return await repository.any_admin(db)


async def get_public(ctx: Ctx, *, user_id: str) -> PublicProfile:
    row = await repository.get(ctx.db, user_id)
    if row is None:
        raise UserNotFound()
    return PublicProfile(id=row.id, name=row.name, role=row.role)


async def list_users(
    ctx: Ctx, *, role: Role | None, cursor: str | None, limit: int
) -> Page[UserRead]:
    after = decode_cursor(cursor, datetime, str)
    rows = await repository.list_users(
        ctx.db, role=role.value if role else None, cursor=after, limit=limit
    )
    return page_of([read(r) for r in rows], limit, lambda u: (u.created_at, u.id))


async def update_profile(ctx: Ctx, *, changes: ProfileUpdate) -> UserRead:
    values: dict[str, Any] = {}
    if changes.name is not None:
        values["name"] = changes.name
    if changes.email_notifications is not None:
        values["email_notifications"] = changes.email_notifications
    if changes.password is not None:
        passwords = ctx.services.passwords
        current_hash = await repository.get_password_hash(ctx.db, ctx.actor.id)
        if not await passwords.verify(current_hash, changes.current_password or ""):
            raise WrongCurrentPassword()
        values["password_hash"] = await passwords.hash(changes.password)
        # Every token issued up to now stops working, the one in use included.
        values["tokens_valid_after"] = ctx.now
    row = await repository.update_user(ctx.db, ctx.actor.id, updated_at=ctx.now, **values)
    if row is None:
        raise UserNotFound()
    if "tokens_valid_after" in values:
        change = AccessChanged(user_id=row.id, jti=None, at=ctx.now, tokens_valid_after=ctx.now)
        await ctx.events.publish(ctx.db, change)
    return read(row)


def removes_an_admin(changes: AdminUserUpdate) -> bool:
    """Whether `changes`, made to an active admin, would leave them no longer one."""
    demoted = changes.role is not None and changes.role is not Role.ADMIN
    return demoted or changes.is_active is False


async def admin_update(ctx: Ctx, *, user_id: str, changes: AdminUserUpdate) -> UserRead:
    # Peerview keeps at least one active admin (docs/api.md §3.2). Counting the admins and
    # then writing would let two admins removing each other at once both see two and both
    # win. So every admin change first locks the rows of all active admins, in the order of
    # their ids, and decides on what it holds: a second change waits for the first to commit,
    # then finds one admin fewer. The caller's row is not locked before (AdminOfUsers, in
    # routes): A holding A's row and wanting B's while B holds B's and wants A's is the
    # deadlock PostgreSQL would break with a 500. On SQLite the writers take turns anyway.
    # (An admin promoted by a change that committed while this one waited is not among the
    # rows taken: a refusal then errs on the side of keeping an admin.)
    admins = await repository.lock_active_admins(ctx.db)
    if user_id in admins and len(admins) == 1 and removes_an_admin(changes):
        raise LastAdmin(
            "This user is the last active admin: make another user an admin before demoting "
            "or deactivating them."
        )
    if ctx.actor.id not in admins:
        # Demoted or deactivated since the token check (a change that committed while this
        # one waited): refused as the caller's next request would be. Held, the caller's row
        # cannot change under this request, as the token check's lock would have ensured.
        # LAST_ADMIN is judged first: of two admins removing each other at once, the one that
        # waited was admitted as an admin and lost a race, a 409 (docs/api.md §1.5).
        raise Forbidden("This action is for ADMIN only")
    values: dict[str, Any] = {"updated_at": ctx.now}
    if changes.role is not None:
        values["role"] = changes.role.value
    if changes.is_active is not None:
        values["is_active"] = changes.is_active
    row = await repository.update_user(ctx.db, user_id, **values)
    if row is None:
        raise UserNotFound()
    if len(values) > 1:
        change = AccessChanged(
            user_id=row.id, jti=None, at=ctx.now, deactivated=changes.is_active is False
        )
        await ctx.events.publish(ctx.db, change)
    return read(row)


async def revoke_token(ctx: Ctx) -> None:
    token = ctx.actor.token
    await repository.revoke_token(
        ctx.db, jti=token.jti, user_id=ctx.actor.id, expires_at=token.expires_at
    )
    await ctx.events.publish(ctx.db, AccessChanged(user_id=ctx.actor.id, jti=token.jti, at=ctx.now))


async def purge_revoked_tokens(*, db: Connection, now: datetime) -> int:
    return await repository.purge_revoked_tokens(db, now=now)


async def viewer(*, db: Connection, user_id: str, now: datetime) -> Actor | None:
    """A user as the reader of something Peerview sends them unasked (a push, an e-mail).

    It carries no token and must only be used to shape what that user may see.
    """
    row = await repository.get(db, user_id)
    if row is None:
        return None
    return Actor(
        id=row.id,
        name=row.name,
        email=row.email,
        role=row.role,
        is_active=row.is_active,
        email_notifications=row.email_notifications,
        created_at=row.created_at,
        token=TokenClaims(subject=user_id, jti="", issued_at=now, expires_at=now),
    )
