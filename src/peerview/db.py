"""Engine, connection pragmas, and the one-transaction-per-request dependency."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import String, event, func
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from peerview import sqlite_inline
from peerview.config import Settings

logger = logging.getLogger(__name__)

AfterCommit = Callable[[], Awaitable[None]]
_AFTER_COMMIT_KEY = "peerview.after_commit"
# How long a SQLite writer waits for another process's write lock.
SQLITE_BUSY_SECONDS = 10


def create_engine(settings: Settings) -> AsyncEngine:
    if settings.is_sqlite:
        url = make_url(settings.database_url)
        if settings.sqlite_driver == "inline":
            url = url.set(drivername=f"sqlite+{sqlite_inline.DRIVER}")
        else:
            url = url.set(drivername="sqlite+aiosqlite")
        engine = create_async_engine(
            url,
            connect_args={"timeout": SQLITE_BUSY_SECONDS},
            # Connections are cheap to keep and costly to open (pragmas): keep enough for
            # the requests in flight rather than opening and closing overflow ones.
            pool_size=settings.database_pool_size,
            max_overflow=settings.database_max_overflow,
            pool_timeout=30,
        )
        _configure_sqlite(engine)
        return engine
    return create_async_engine(
        settings.database_url,
        # Not asyncpg's default minute: a silent server must not hold a request that long.
        connect_args={"timeout": settings.database_connect_timeout_seconds},
        pool_pre_ping=True,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
        pool_timeout=30,
    )


def _configure_sqlite(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Leave transaction control to us: pysqlite's implicit BEGIN would start
        # transactions only at the first write, so reads before it saw no snapshot.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # Writers take the write lock up front (BEGIN IMMEDIATE): a deferred
        # transaction that reads and then writes can fail to upgrade its lock
        # under contention, which busy_timeout cannot wait out.
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        if mode == "IMMEDIATE":
            dbapi_connection = conn.connection.dbapi_connection
            if isinstance(dbapi_connection, sqlite_inline.InlineConnection):
                dbapi_connection.acquire_write_lock()
        conn.exec_driver_sql(f"BEGIN {mode}")


@asynccontextmanager
async def transaction(engine: AsyncEngine, *, write: bool = True) -> AsyncIterator[AsyncConnection]:
    """One transaction: committed on success, rolled back on error; after-commit hooks run last.

    The transaction begins with the first statement (SQLAlchemy's autobegin), so work done
    before it, such as hashing a password, holds no lock.
    """
    async with engine.connect() as conn:
        if write and engine.dialect.name == "sqlite":
            conn = await conn.execution_options(sqlite_begin="IMMEDIATE")
        hooks: list[AfterCommit] = []
        conn.info[_AFTER_COMMIT_KEY] = hooks
        try:
            yield conn
            if conn.in_transaction():
                await conn.commit()
        finally:
            # conn.info outlives the checkout: never leave hooks behind on rollback. A
            # connection invalidated mid-statement (its task cancelled) refuses even .info;
            # that must not replace the exception on its way out.
            with contextlib.suppress(Exception):
                conn.info.pop(_AFTER_COMMIT_KEY, None)
    for hook in hooks:
        try:
            await hook()
        except Exception:
            logger.exception("after-commit hook failed")


def after_commit(db: AsyncConnection, hook: AfterCommit) -> None:
    """Run `hook` once the current transaction has committed (never on rollback)."""
    db.info.setdefault(_AFTER_COMMIT_KEY, []).append(hook)


def is_connection_error(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("SELECT 1")
        return True
    except Exception:
        logger.warning("database ping failed", exc_info=True)
        return False


def insert_ignoring_conflicts(db: AsyncConnection, table: Any) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING` in the dialect of `db`."""
    if db.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()


def plus_seconds(db: AsyncConnection, column: Any, seconds: float) -> Any:
    """`column + seconds` as SQL, in the storage format of `UTCDateTime` on each dialect."""
    if db.dialect.name == "postgresql":
        return column + func.make_interval(0, 0, 0, 0, 0, 0, float(seconds))
    # SQLite keeps datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime's %f gives milliseconds.
    shifted = func.strftime("%Y-%m-%d %H:%M:%f", column, f"{seconds:+.3f} seconds", type_=String)
    return shifted + "000"
