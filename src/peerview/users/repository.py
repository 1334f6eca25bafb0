"""SQL for the users table (and the token revocation list it owns)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, exists, insert, select, update

from peerview.db import Connection, RowMapping, insert_ignoring_conflicts
from peerview.models import RevokedToken, User
from peerview.models.base import table_of
from peerview.pagination import after

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


async def insert_user(db: Connection, values: dict[str, Any]) -> RowMapping:
    result = await db.execute(insert(users).values(**values).returning(*PUBLIC_COLUMNS))
    return result.mappings().one()


async def get(db: Connection, user_id: str) -> RowMapping | None:
    result = await db.execute(select(*PUBLIC_COLUMNS).where(users.c.id == user_id))
    return result.mappings().first()


async def get_credentials_by_email(db: Connection, email: str) -> RowMapping | None:
    result = await db.execute(
        select(*PUBLIC_COLUMNS, users.c.password_hash, users.c.tokens_valid_after).where(
            users.c.email == email
        )
    )
    return result.mappings().first()


async def get_password_hash(db: Connection, user_id: str) -> str | None:
    result = await db.execute(select(users.c.password_hash).where(users.c.id == user_id))
    value: str | None = result.scalar_one_or_none()
    return value


# Built once: checked on every authenticated request, it skips statement construction and
# cache-key generation (bound values arrive as parameters).
_TOKEN_HOLDER = select(
    *PUBLIC_COLUMNS,
    users.c.tokens_valid_after,
    exists().where(revoked.c.jti == bindparam("jti")).label("token_revoked"),
).where(users.c.id == bindparam("user_id"))


async def get_token_holder(db: Connection, user_id: str, jti: str) -> RowMapping | None:
    """The user behind a token, with whether that token was revoked: one round trip."""
    result = await db.execute(_TOKEN_HOLDER, {"user_id": user_id, "jti": jti})
    return result.mappings().first()


async def list_users(
    db: Connection, *, role: str | None, cursor: list[Any] | None, limit: int
) -> list[RowMapping]:
    query = select(*PUBLIC_COLUMNS).order_by(users.c.created_at, users.c.id).limit(limit + 1)
    if role is not None:
        query = query.where(users.c.role == role)
    if cursor is not None:
        query = query.where(after((users.c.created_at, users.c.id), cursor))
    result = await db.execute(query)
    return list(result.mappings().all())


async def update_user(db: Connection, user_id: str, values: dict[str, Any]) -> RowMapping | None:
    result = await db.execute(
        update(users).where(users.c.id == user_id).values(**values).returning(*PUBLIC_COLUMNS)
    )
    return result.mappings().first()


async def revoke_token(db: Connection, *, jti: str, user_id: str, expires_at: datetime) -> None:
    statement = insert_ignoring_conflicts(db.dialect, revoked)
    await db.execute(statement.values(jti=jti, user_id=user_id, expires_at=expires_at))


async def purge_revoked_tokens(db: Connection, *, now: datetime) -> int:
    """Forget revocations of tokens that have expired on their own."""
    result = await db.execute(revoked.delete().where(revoked.c.expires_at <= now))
    return result.rowcount or 0
