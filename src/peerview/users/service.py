"""Users: registration rows, profiles, admin changes; the rules about who may see what."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from peerview.actor import Actor
from peerview.auth.passwords import PasswordService
from peerview.auth.tokens import TokenClaims
from peerview.db import Connection, IntegrityError, RowMapping
from peerview.models.base import new_id
from peerview.models.enums import Role
from peerview.pagination import Page, decode_cursor, page_of
from peerview.users import repository
from peerview.users.errors import EmailTaken, UserNotFound, WrongCurrentPassword
from peerview.users.schemas import AdminUserUpdate, ProfileUpdate, PublicProfile, UserRead


def normalise_email(email: str) -> str:
    return email.strip().lower()


async def create(
    *,
    db: Connection,
    now: datetime,
    name: str,
    email: str,
    password_hash: str,
    role: Role,
) -> RowMapping:
    values: dict[str, Any] = {
        "id": new_id(),
        "name": name,
        "email": normalise_email(email),
        "password_hash": password_hash,
        "role": role.value,
        "is_active": True,
        "email_notifications": True,
        "created_at": now,
        "updated_at": now,
    }
    if await repository.get_credentials_by_email(db, values["email"]) is not None:
        raise EmailTaken()
    try:
        async with db.savepoint():
            return await repository.insert_user(db, values)
    except IntegrityError as exc:
        # Two registrations racing for one e-mail: the unique index decides.
        raise EmailTaken() from exc


async def find_credentials(*, db: Connection, email: str) -> RowMapping | None:
    return await repository.get_credentials_by_email(db, normalise_email(email))


async def get_public(*, db: Connection, user_id: str) -> PublicProfile:
    row = await repository.get(db, user_id)
    if row is None:
        raise UserNotFound()
    return PublicProfile.model_validate(row)


async def get(*, db: Connection, user_id: str) -> UserRead:
    row = await repository.get(db, user_id)
    if row is None:
        raise UserNotFound()
    return UserRead.model_validate(row)


async def list_users(
    *, db: Connection, role: Role | None, cursor: str | None, limit: int
) -> Page[UserRead]:
    after = decode_cursor(cursor, datetime, str)
    rows = await repository.list_users(
        db, role=role.value if role else None, cursor=after, limit=limit
    )
    items = [UserRead.model_validate(r) for r in rows]
    return page_of(items, limit, lambda u: (u.created_at, u.id))


async def update_profile(
    *,
    db: Connection,
    now: datetime,
    actor: Actor,
    changes: ProfileUpdate,
    passwords: PasswordService,
) -> UserRead:
    values: dict[str, Any] = {}
    if changes.name is not None:
        values["name"] = changes.name
    if changes.email_notifications is not None:
        values["email_notifications"] = changes.email_notifications
    if changes.password is not None:
        current_hash = await repository.get_password_hash(db, actor.id)
        if not await passwords.verify(current_hash, changes.current_password or ""):
            raise WrongCurrentPassword()
        values["password_hash"] = await passwords.hash(changes.password)
        # Every token issued up to now stops working, the one in use included.
        values["tokens_valid_after"] = now
    values["updated_at"] = now
    row = await repository.update_user(db, actor.id, values)
    if row is None:
        raise UserNotFound()
    return UserRead.model_validate(row)


async def admin_update(
    *, db: Connection, now: datetime, user_id: str, changes: AdminUserUpdate
) -> UserRead:
    values: dict[str, Any] = {"updated_at": now}
    if changes.role is not None:
        values["role"] = changes.role.value
    if changes.is_active is not None:
        values["is_active"] = changes.is_active
    row = await repository.update_user(db, user_id, values)
    if row is None:
        raise UserNotFound()
    return UserRead.model_validate(row)


async def revoke_token(*, db: Connection, actor: Actor) -> None:
    await repository.revoke_token(
        db, jti=actor.token.jti, user_id=actor.id, expires_at=actor.token.expires_at
    )


async def purge_revoked_tokens(*, db: Connection, now: datetime) -> int:
    return await repository.purge_revoked_tokens(db, now=now)


def _actor_of(row: RowMapping, claims: TokenClaims) -> Actor:
    return Actor(
        id=row["id"],
        name=row["name"],
        email=row["email"],
        role=Role(row["role"]),
        is_active=row["is_active"],
        email_notifications=row["email_notifications"],
        created_at=row["created_at"],
        token=claims,
    )


async def token_holder(*, db: Connection, claims: TokenClaims) -> Actor | None:
    """The active user a verified token speaks for, or None: the rules of every REST request.

    Revoked tokens, deactivated users and tokens issued before a password change are refused.
    """
    row = await repository.get_token_holder(db, claims.subject, claims.jti)
    if row is None or row["token_revoked"] or not row["is_active"]:
        return None
    cutoff = row["tokens_valid_after"]
    if cutoff is not None and claims.issued_at < cutoff:
        return None
    return _actor_of(row, claims)


async def viewer(*, db: Connection, user_id: str, now: datetime) -> Actor | None:
    """A user as the reader of something Peerview sends them unasked (a push, an e-mail).

    It carries no token and must only be used to shape what that user may see.
    """
    row = await repository.get(db, user_id)
    if row is None:
        return None
    claims = TokenClaims(subject=user_id, jti="", issued_at=now, expires_at=now)
    return _actor_of(row, claims)
