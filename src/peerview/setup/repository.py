"""SQL for the first-run facts (`app_meta`) and the setup codes' hashes (`setup_codes`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Executable, delete, exists, insert, select

from peerview.db import Connection, Dialect, Query, bind, binds_for, insert_ignoring_conflicts
from peerview.models import AppMeta, SetupCode
from peerview.models.base import table_of

app_meta = table_of(AppMeta)
setup_codes = table_of(SetupCode)


def _mark(dialect: Dialect) -> Executable:
    statement = insert_ignoring_conflicts(dialect, app_meta)
    values = binds_for([app_meta.c.key, app_meta.c.value, app_meta.c.created_at])
    return statement.values(values)  # type: ignore[no-any-return]


_MARK = Query(_mark)
_CODE_KNOWN = Query(select(exists().where(setup_codes.c.code_hash == bind("code_hash"))))
_TAKE_CODE = Query(
    delete(setup_codes)
    .where(setup_codes.c.code_hash == bind("code_hash"))
    .returning(setup_codes.c.instance)
)
_FORGET_INSTANCE_CODE = Query(delete(setup_codes).where(setup_codes.c.instance == bind("instance")))
_INSERT_CODE = Query(
    insert(setup_codes).values(
        binds_for([setup_codes.c.instance, setup_codes.c.code_hash, setup_codes.c.created_at])
    )
)
_FORGET_CODES = Query(delete(setup_codes))


async def mark(db: Connection, *, key: str, value: str, now: datetime) -> bool:
    """Record the fact `key` unless it is recorded already: whether this call recorded it.

    On PostgreSQL a second transaction recording the same key waits for the first to end,
    then records nothing if the first committed.
    """
    return await db.run(_MARK, key=key, value=value, created_at=now) == 1


async def code_known(db: Connection, *, code_hash: str) -> bool:
    return bool(await db.scalar(_CODE_KNOWN, code_hash=code_hash))


async def take_code(db: Connection, *, code_hash: str) -> bool:
    """Delete the code with this hash: whether there was one."""
    return await db.run(_TAKE_CODE, code_hash=code_hash) > 0


async def replace_code(db: Connection, *, instance: str, code_hash: str, now: datetime) -> None:
    """`instance`'s code from now on, in place of the one it had."""
    await db.run(_FORGET_INSTANCE_CODE, instance=instance)
    await db.run(_INSERT_CODE, instance=instance, code_hash=code_hash, created_at=now)


async def forget_codes(db: Connection) -> int:
    return await db.run(_FORGET_CODES)
