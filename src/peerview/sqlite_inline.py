"""A SQLite driver for SQLAlchemy's asyncio engine that runs each statement on the event loop.

aiosqlite hands every statement to a thread of its own; on these machines the hand-off
costs far more (about a millisecond) than the statement itself (tens of microseconds).
Here the statements run inline, like better-sqlite3 in Node, and only waiting is async:

- Readers never wait: in WAL mode a reader is not blocked by the writer.
- Writers take SQLite's write lock with BEGIN IMMEDIATE. Inside one process they first
  queue on an asyncio lock, so a writer never blocks the loop on a lock held by another
  coroutine of the same loop (which could not release it: a deadlock). Across processes,
  SQLite's busy handler waits for the other process's short transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

from sqlalchemy import pool
from sqlalchemy.dialects import registry
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite
from sqlalchemy.engine import URL
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.util.concurrency import await_

DRIVER = "peerview"


async def _done() -> None:
    """An awaitable that completes at once.

    SQLAlchemy's asyncio layer insists that every statement awaits something (to catch a
    sync driver used by mistake); awaiting this costs a greenlet switch, not a loop turn.
    """


class InlineCursor:
    """sqlite3's cursor, with the no-op async close that SQLAlchemy's asyncio layer calls."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid

    @property
    def arraysize(self) -> int:
        return self._cursor.arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._cursor.arraysize = value

    def execute(self, operation: str, parameters: Any = ()) -> InlineCursor:
        await_(_done())
        self._cursor.execute(operation, parameters)
        return self

    def executemany(self, operation: str, seq_of_parameters: Any) -> InlineCursor:
        await_(_done())
        self._cursor.executemany(operation, seq_of_parameters)
        return self

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(size if size is not None else self._cursor.arraysize)

    def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    def close(self) -> None:
        self._cursor.close()

    def __iter__(self) -> Any:
        return iter(self._cursor)

    async def _async_soft_close(self) -> None:
        # Rows are read inline whenever they are fetched; nothing to do before leaving async.
        return None


class InlineConnection:
    """A sqlite3 connection, plus whether it holds this process's write lock."""

    __slots__ = ("_conn", "_write_lock", "holds_write_lock")

    def __init__(self, conn: sqlite3.Connection, write_lock: asyncio.Lock) -> None:
        self._conn = conn
        self._write_lock = write_lock
        self.holds_write_lock = False

    @property
    def driver_connection(self) -> sqlite3.Connection:
        return self._conn

    def acquire_write_lock(self) -> None:
        if not self.holds_write_lock:
            await_(self._write_lock.acquire())
            self.holds_write_lock = True

    def release_write_lock(self) -> None:
        if self.holds_write_lock:
            self.holds_write_lock = False
            self._write_lock.release()

    def cursor(self) -> InlineCursor:
        return InlineCursor(self._conn.cursor())

    def execute(self, *args: Any) -> InlineCursor:
        return InlineCursor(self._conn.execute(*args))

    def commit(self) -> None:
        try:
            self._conn.commit()
        finally:
            self.release_write_lock()

    def rollback(self) -> None:
        try:
            self._conn.rollback()
        finally:
            self.release_write_lock()

    def close(self) -> None:
        try:
            self._conn.close()
        finally:
            self.release_write_lock()

    def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    @isolation_level.setter
    def isolation_level(self, value: Any) -> None:
        self._conn.isolation_level = value

    @property
    def in_transaction(self) -> bool:
        return self._conn.in_transaction


class _InlineDBAPI:
    """The module-level face of the driver: sqlite3's names, and a connect() of our own."""

    paramstyle = "qmark"

    def __init__(self) -> None:
        self._write_locks: dict[int, asyncio.Lock] = {}
        for name in (
            "DatabaseError",
            "Error",
            "IntegrityError",
            "InterfaceError",
            "InternalError",
            "NotSupportedError",
            "OperationalError",
            "ProgrammingError",
            "DataError",
            "Warning",
            "sqlite_version",
            "sqlite_version_info",
            "PARSE_COLNAMES",
            "PARSE_DECLTYPES",
            "Binary",
        ):
            setattr(self, name, getattr(sqlite3, name))

    def _lock_for_loop(self) -> asyncio.Lock:
        # One lock per event loop: the engine may outlive a test's loop.
        loop = asyncio.get_running_loop()
        lock = self._write_locks.get(id(loop))
        if lock is None:
            lock = self._write_locks[id(loop)] = asyncio.Lock()
        return lock

    def connect(self, database: str, **kwargs: Any) -> InlineConnection:
        kwargs["check_same_thread"] = False
        kwargs.setdefault("isolation_level", None)
        conn = sqlite3.connect(database, **kwargs)
        return InlineConnection(conn, self._lock_for_loop())


class SQLiteDialect_inline(SQLiteDialect_pysqlite):
    driver = DRIVER
    is_async = True
    supports_statement_cache = True
    supports_server_side_cursors = False

    @classmethod
    def import_dbapi(cls) -> Any:
        return _InlineDBAPI()

    @classmethod
    def get_pool_class(cls, url: URL) -> type[pool.Pool]:
        return pool.AsyncAdaptedQueuePool

    def get_driver_connection(self, connection: DBAPIConnection) -> Any:
        return connection.driver_connection

    def do_terminate(self, dbapi_connection: DBAPIConnection) -> None:
        dbapi_connection.close()


registry.register(f"sqlite.{DRIVER}", __name__, "SQLiteDialect_inline")
