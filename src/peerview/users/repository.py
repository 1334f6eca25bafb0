"""SQL for the users table (and the token revocation list it owns)."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import Executable, exists, insert, select, update

from peerview.db import (
    Connection,
    Dialect,
    Query,
    Variants,
    bind,
    binds_for,
    insert_ignoring_conflicts,
)
from peerview.models import RevokedToken, User
from peerview.models.base import table_of
from peerview.models.enums import Role
from peerview.pagination import after, cursor_params

users = table_of(User)
revoked = table_of(RevokedToken)

PUBLIC_COLUMNS = (
    users.c.id,
    users.c.name,
    users.c.email,
    users.c.role,
    users.c.is_active,
    users.c.email_notifications,
    users.c.created_at,
)


class UserRow(msgspec.Struct, frozen=True):
    id: str
    name: str
    email: str
    role: Role
    is_active: bool
    email_notifications: bool
    created_at: datetime


class Credentials(msgspec.Struct, frozen=True):
    id: str
    name: str
    email: str
    role: Role
    is_active: bool
    email_notifications: bool
    created_at: datetime
    password_hash: str


class TokenHolder(msgspec.Struct, frozen=True):
    id: str
    name: str
    email: str
    role: Role
    is_active: bool
    email_notifications: bool
    created_at: datetime
    tokens_valid_after: datetime | None
    token_revoked: bool


_INSERT = Query(
    insert(users)
    .values(
        binds_for(
            [
                users.c.id,
                users.c.name,
                users.c.email,
                users.c.password_hash,
                users.c.role,
                users.c.is_active,
                users.c.email_notifications,
                users.c.created_at,
                users.c.updated_at,
            ]
        )
    )
    .returning(*PUBLIC_COLUMNS),
    UserRow,
)
_BY_ID = Query(select(*PUBLIC_COLUMNS).where(users.c.id == bind("user_id")), UserRow)
_CREDENTIALS = Query(
    select(*PUBLIC_COLUMNS, users.c.password_hash).where(users.c.email == bind("email")),
    Credentials,
)
_PASSWORD_HASH = Query(select(users.c.password_hash).where(users.c.id == bind("user_id")))
# Checked on every authenticated request: the user and the token's revocation, one round trip.
_HOLDER = select(
    *PUBLIC_COLUMNS,
    users.c.tokens_valid_after,
    exists().where(revoked.c.jti == bind("jti")).label("token_revoked"),
).where(users.c.id == bind("user_id"))
_TOKEN_HOLDER = Query(_HOLDER, TokenHolder)
# FOR NO KEY UPDATE: exclusive among the user's own writers, while other transactions may
# still insert rows that refer to the user (a session with them in it, say).
_TOKEN_HOLDER_LOCKED = Query(_HOLDER.with_for_update(key_share=True, of=users), TokenHolder)


def _list(role: bool, cursor: bool) -> Executable:
    query = select(*PUBLIC_COLUMNS).order_by(users.c.created_at, users.c.id).limit(bind("limit"))
    if role:
        query = query.where(users.c.role == bind("role"))
    if cursor:
        query = query.where(after((users.c.created_at, users.c.id)))
    return query


_LIST = Variants(_list, UserRow)


def _update(*columns: str) -> Executable:
    values = {name: bind(name, users.c[name].type) for name in columns}
    return (
        update(users).where(users.c.id == bind("user_id")).values(values).returning(*PUBLIC_COLUMNS)
    )


_UPDATE = Variants(_update, UserRow)

# Every active admin's row, locked in one order (FOR NO KEY UPDATE, as the token check locks a
# writer's own row); SQLite has no row locks and needs none, its writers take turns.
_LOCK_ACTIVE_ADMINS = Query(
    select(users.c.id)
    .where(users.c.role == Role.ADMIN, users.c.is_active)
    .order_by(users.c.id)
    .with_for_update(key_share=True)
)

# Whether any admin exists, active or not: first-run setup is open only while none does.
_ANY_ADMIN = Query(select(exists().where(users.c.role == Role.ADMIN)))


def _revoke(dialect: Dialect) -> Executable:
    statement = insert_ignoring_conflicts(dialect, revoked)
    values = binds_for([revoked.c.jti, revoked.c.user_id, revoked.c.expires_at])
    return statement.values(values)  # type: ignore[no-any-return]


_REVOKE = Query(_revoke)
_PURGE_REVOKED = Query(revoked.delete().where(revoked.c.expires_at <= bind("now")))


async def insert_user(
    db: Connection,
    *,
    id: str,
    name: str,
    email: str,
    password_hash: str,
    role: str,
    now: datetime,
) -> UserRow:
    row = await db.one(
        _INSERT,
        id=id,
        name=name,
        email=email,
        password_hash=password_hash,
        role=role,
        is_active=True,
        email_notifications=True,
        created_at=now,
        updated_at=now,
    )
    assert row is not None
    return row


async def get(db: Connection, user_id: str) -> UserRow | None:
    return await db.one(_BY_ID, user_id=user_id)


async def get_credentials_by_email(db: Connection, email: str) -> Credentials | None:
    return await db.one(_CREDENTIALS, email=email)


async def get_password_hash(db: Connection, user_id: str) -> str | None:
    value: str | None = await db.scalar(_PASSWORD_HASH, user_id=user_id)
    return value


async def token_holder(
    db: Connection, *, user_id: str, jti: str, lock: bool = False
) -> TokenHolder | None:
    """The user behind a token, with whether that token was revoked: one round trip. With
    `lock`, the user's row stays locked until the transaction ends."""
    query = _TOKEN_HOLDER_LOCKED if lock else _TOKEN_HOLDER
    return await db.one(query, user_id=user_id, jti=jti)


async def list_users(
    db: Connection, *, role: str | None, cursor: list[object] | None, limit: int
) -> list[UserRow]:
    params: dict[str, object] = {"limit": limit + 1}
    if role is not None:
        params["role"] = role
    if cursor is not None:
        params.update(cursor_params(cursor))
    query = _LIST(role is not None, cursor is not None)
    return await db.all(query, **params)


async def update_user(db: Connection, user_id: str, **values: object) -> UserRow | None:
    """Set the given columns of one user; the row as it now is, or None if there is none."""
    query = _UPDATE(*sorted(values))
    return await db.one(query, user_id=user_id, **values)


async def lock_active_admins(db: Connection) -> list[str]:
    """The ids of the active admins, their rows locked until the transaction ends, taken in
    the order of their ids so that two transactions taking them never wait on each other."""
    return [row[0] for row in await db.all(_LOCK_ACTIVE_ADMINS)]


async def any_admin(db: Connection) -> bool:
    return bool(await db.scalar(_ANY_ADMIN))


async def revoke_token(db: Connection, *, jti: str, user_id: str, expires_at: datetime) -> None:
    await db.run(_REVOKE, jti=jti, user_id=user_id, expires_at=expires_at)


async def purge_revoked_tokens(db: Connection, *, now: datetime) -> int:
    """Forget revocations of tokens that have expired on their own."""
    return await db.run(_PURGE_REVOKED, now=now)
