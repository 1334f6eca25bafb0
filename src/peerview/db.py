"""Statements built once, executed on the raw drivers: sqlite3 on the event loop, asyncpg pooled.

SQLAlchemy Core builds each statement (a `Query`), once, at import time; the first execution on
a dialect compiles it to that dialect's SQL and works out, once, how to turn keyword
parameters into the driver's positional arguments (with the column types' conversions) and
the driver's rows into typed rows. After that an execution is the driver call and two small
loops: no statement construction, no cache-key walk, no thread hand-off.

A request runs on one `Connection`. Its transaction begins at the first statement after
`begin()` (so the token check before it, or a password hash, holds no lock), commits when the
request succeeds and rolls back otherwise; `after_commit` hooks run once it has committed.

- SQLite: each statement runs inline, as better-sqlite3 does in Node; in WAL mode readers never
  wait. A writer takes SQLite's write lock with BEGIN IMMEDIATE, after queueing on an asyncio
  lock of this process, so it never blocks the loop on a lock held by a coroutine of the same
  loop. Reads run in a deferred transaction: one snapshot for the whole request.
- PostgreSQL: asyncpg, whose prepared statements are cached per connection. Reads run without
  BEGIN/COMMIT (under READ COMMITTED each statement sees its own snapshot anyway, so a read
  transaction would only add two round trips); writes run in a transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sqlite3
import typing
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, Literal, TypeVar, cast, overload

import msgspec
from sqlalchemy import BindParameter, ColumnElement, String, func
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.dialects.postgresql import asyncpg as asyncpg_dialect
from sqlalchemy.engine import Dialect as SADialect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnClause
from sqlalchemy.types import TypeEngine

from peerview.config import Settings

logger = logging.getLogger(__name__)

Dialect = Literal["sqlite", "postgresql"]
R = TypeVar("R")
AfterCommit = Callable[[], Awaitable[None]]
BeforeCommit = Callable[[], Awaitable[None]]
Listener = Callable[[str, bool], None]

# How long a SQLite writer waits for another process's write lock.
SQLITE_BUSY_SECONDS = 10
# A pooled PostgreSQL connection waits this long for a free one before the request fails.
POOL_TIMEOUT_SECONDS = 30
# asyncpg caches this many prepared statements per connection (its default is 100).
STATEMENT_CACHE_SIZE = 1024

_DIALECTS: dict[Dialect, SADialect] = {
    "sqlite": sqlite_dialect.dialect(),
    "postgresql": asyncpg_dialect.dialect(),  # type: ignore[no-untyped-call]
}


# --- errors ---------------------------------------------------------------------------------


class IntegrityError(Exception):
    """A constraint (unique, foreign key, check) refused the statement."""


class Unavailable(Exception):
    """The database cannot serve right now: unreachable, restarting, locked for too long."""


class UnstorableText(Exception):
    """A text value the database cannot store (PostgreSQL refuses U+0000)."""


# PostgreSQL's SQLSTATEs: 22021 a character the encoding cannot hold; 57P01/57P02/57P03 a
# server shutting down or starting up; 53300 a server out of connection slots; class 08
# every connection exception.
_UNSTORABLE = "22021"
_UNAVAILABLE_STATES = frozenset({"57P01", "57P02", "57P03", "53300"})
_SQLITE_UNAVAILABLE = ("locked", "busy", "unable to open", "disk i/o")


def _translate(exc: BaseException) -> BaseException:
    """The driver's exception as one of ours where it is one we answer for; else itself."""
    if isinstance(exc, sqlite3.IntegrityError):
        return IntegrityError(str(exc))
    if isinstance(exc, sqlite3.OperationalError):
        message = str(exc).lower()
        if any(part in message for part in _SQLITE_UNAVAILABLE):
            return Unavailable(str(exc))
        return exc
    import asyncpg

    if isinstance(exc, asyncpg.IntegrityConstraintViolationError):
        return IntegrityError(str(exc))
    sqlstate = getattr(exc, "sqlstate", None)
    if sqlstate == _UNSTORABLE:
        return UnstorableText(str(exc))
    if isinstance(sqlstate, str) and (sqlstate in _UNAVAILABLE_STATES or sqlstate.startswith("08")):
        return Unavailable(str(exc))
    if isinstance(
        exc,
        OSError
        | TimeoutError
        | asyncpg.InterfaceError
        | asyncpg.exceptions.InternalClientError
        | asyncpg.ConnectionDoesNotExistError
        | asyncpg.PostgresConnectionError,
    ):
        return Unavailable(f"{type(exc).__name__}: {exc}")
    return exc


# --- dialect-neutral pieces of SQL ---------------------------------------------------------


class InList(ColumnElement[bool]):
    """`column IN <a list bound as one parameter>`: `= ANY($n)` on PostgreSQL, `json_each` on
    SQLite. The list is one parameter, so the statement stays the same whatever its length."""

    inherit_cache = True
    type = TypeEngine()

    def __init__(self, column: ColumnElement[Any], name: str, *, negate: bool = False) -> None:
        self.column = column
        self.name = name
        self.negate = negate


@compiles(InList, "postgresql")
def _in_list_postgresql(element: InList, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    parameter = compiler.process(BindParameter(element.name, type_=_TextList()), **kw)
    if element.negate:
        return f"NOT ({column} = ANY({parameter}))"
    return f"{column} = ANY({parameter})"


@compiles(InList, "sqlite")
def _in_list_sqlite(element: InList, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.column, **kw)
    parameter = compiler.process(BindParameter(element.name, type_=_TextList()), **kw)
    keyword = "NOT IN" if element.negate else "IN"
    return f"{column} {keyword} (SELECT value FROM json_each({parameter}))"  # noqa: S608


class _TextList(TypeEngine[list[str]]):
    """A list of strings as one parameter: a text[] on PostgreSQL, JSON text on SQLite."""

    def bind_processor(self, dialect: SADialect) -> Callable[[Any], Any] | None:
        if dialect.name == "sqlite":
            return lambda value: msgspec.json.encode(list(value)).decode()
        return list

    def get_col_spec(self) -> str:
        return "TEXT[]"


@compiles(_TextList, "postgresql")
def _text_list_type(_: _TextList, __: Any, **___: Any) -> str:
    return "TEXT[]"


def in_list(column: ColumnElement[Any], name: str) -> InList:
    return InList(column, name)


def not_in_list(column: ColumnElement[Any], name: str) -> InList:
    return InList(column, name, negate=True)


class PlusSeconds(ColumnElement[Any]):
    """`column + seconds` in the storage format of `UTCDateTime` on each dialect."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any], seconds: ColumnElement[Any] | float) -> None:
        self.column = column
        self.seconds = seconds
        self.type = column.type


@compiles(PlusSeconds, "postgresql")
def _plus_seconds_postgresql(element: PlusSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    seconds = element.seconds
    interval = func.make_interval(0, 0, 0, 0, 0, 0, seconds)
    return compiler.process(element.column + interval, **kw)


@compiles(PlusSeconds, "sqlite")
def _plus_seconds_sqlite(element: PlusSeconds, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps datetimes as 'YYYY-MM-DD HH:MM:SS.ffffff'; strftime's %f gives milliseconds.
    seconds = element.seconds
    modifier = (
        f"{seconds:+.3f} seconds"
        if isinstance(seconds, int | float)
        else func.printf("%+.3f seconds", seconds)
    )
    shifted = func.strftime("%Y-%m-%d %H:%M:%f", element.column, modifier, type_=String)
    return compiler.process(shifted + "000", **kw)


def plus_seconds(column: ColumnElement[Any], seconds: ColumnElement[Any] | float) -> PlusSeconds:
    return PlusSeconds(column, seconds)


class Unindexed(ColumnElement[Any]):
    """A column that SQLite must not look up through an index (`+column`): it leaves the
    planner the index that gives a query's order. Other dialects see the plain column."""

    inherit_cache = True

    def __init__(self, column: ColumnElement[Any]) -> None:
        self.column = column
        self.type = column.type


@compiles(Unindexed)
def _unindexed(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.column, **kw)


@compiles(Unindexed, "sqlite")
def _unindexed_sqlite(element: Unindexed, compiler: SQLCompiler, **kw: Any) -> str:
    return "+" + compiler.process(element.column, **kw)


def unindexed(column: ColumnElement[Any]) -> Unindexed:
    return Unindexed(column)


# --- statements compiled once -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Plan:
    """One statement as one dialect runs it."""

    sql: str
    args: Callable[[Mapping[str, Any]], tuple[Any, ...]]
    row: Callable[[Sequence[Any]], Any] | None
    returns_rows: bool


def _bind_converter(type_: TypeEngine[Any], dialect: SADialect) -> Callable[[Any], Any] | None:
    converter = type_.dialect_impl(dialect).bind_processor(dialect)
    return cast(Callable[[Any], Any] | None, converter)


def _result_converter(type_: TypeEngine[Any], dialect: SADialect) -> Callable[[Any], Any] | None:
    from peerview.models.base import UTCDateTime

    if dialect.name == "postgresql" and isinstance(type_, UTCDateTime):
        return None  # asyncpg already gives timezone-aware UTC datetimes
    try:
        converter = type_.dialect_impl(dialect).result_processor(dialect, None)
    except (TypeError, NotImplementedError):
        return None  # a driver-native type: asyncpg decodes it as it is
    return cast(Callable[[Any], Any] | None, converter)


def _arg_builder(
    slots: list[tuple[str | None, Any, Callable[[Any], Any] | None]],
) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function from keyword parameters to the driver's positional arguments.

    Each slot is (parameter name, or None for a value written into the statement; that
    value, already converted; the conversion a parameter's value needs).
    """
    if not any(name for name, _, _ in slots):
        constants = tuple(value for _, value, _ in slots)
        return lambda _params: constants

    def build(params: Mapping[str, Any]) -> tuple[Any, ...]:
        out = []
        for name, constant, convert in slots:
            if name is None:
                out.append(constant)
                continue
            try:
                value = params[name]
            except KeyError:
                raise TypeError(f"the statement needs the parameter {name!r}") from None
            out.append(value if convert is None or value is None else convert(value))
        return tuple(out)

    return build


def _enum_converter(annotation: Any) -> Callable[[Any], Any] | None:
    """For a row field typed as an enum (or an optional one): a lookup of its members by
    value, several times cheaper than calling the enum."""
    members: dict[Any, Any] = {}
    for option in typing.get_args(annotation) or (annotation,):
        if isinstance(option, type) and issubclass(option, Enum):
            members.update((m.value, m) for m in option)
        elif option is type(None):
            members[None] = None
    return members.__getitem__ if members and any(k is not None for k in members) else None


def _row_builder(
    row_type: type[Any] | None, converters: list[Callable[[Any], Any] | None]
) -> Callable[[Sequence[Any]], Any] | None:
    """A function from one driver row to a typed row, generated once per statement.

    Each column goes through its SQL type's conversion, then, where the row's field is an
    enum, through the lookup of its member.
    """
    if row_type is None:
        return None
    namespace: dict[str, Any] = {"Row": row_type}
    annotations = [f.type for f in msgspec.structs.fields(row_type)]
    parts = []
    for i, convert in enumerate(converters):
        value = f"r[{i}]"
        if convert is not None:
            namespace[f"c{i}"] = convert
            value = f"c{i}({value})"
        member = _enum_converter(annotations[i])
        if member is not None:
            namespace[f"e{i}"] = member
            value = f"e{i}({value})"
        parts.append(value)
    source = f"lambda r: Row({', '.join(parts)})"
    return cast(Callable[[Sequence[Any]], Any], eval(source, namespace))  # noqa: S307 (our code)


def _column_names(statement: Executable) -> list[str]:
    columns = getattr(statement, "exported_columns", None) or []
    return [str(getattr(c, "key", None) or getattr(c, "name", "")) for c in columns]


class Query(Generic[R]):
    """A statement built once; compiled once per dialect on first use.

    `statement` is the statement, or a function of the dialect's name that builds it where
    the dialects' SQL differs (`INSERT … ON CONFLICT` say). `row` is the type each result
    row becomes: a `msgspec.Struct` whose fields are the statement's columns in order
    (checked when it compiles). Without it, rows are tuples.
    """

    __slots__ = ("_plans", "row", "statement")

    @overload
    def __init__(
        self: Query[tuple[Any, ...]],
        statement: Executable | Callable[[Dialect], Executable],
        row: None = None,
    ) -> None: ...

    @overload
    def __init__(
        self, statement: Executable | Callable[[Dialect], Executable], row: type[R]
    ) -> None: ...

    def __init__(
        self, statement: Executable | Callable[[Dialect], Executable], row: type[R] | None = None
    ) -> None:
        self.statement = statement
        self.row = row
        self._plans: dict[str, Plan] = {}

    def plan(self, dialect: Dialect) -> Plan:
        plan = self._plans.get(dialect)
        if plan is None:
            statement = self.statement
            if callable(statement) and not isinstance(statement, ClauseElement):
                statement = statement(dialect)
            plan = self._plans[dialect] = _compile(statement, dialect, self.row)
        return plan


def _compile(statement: Executable, dialect_name: Dialect, row: type[Any] | None) -> Plan:
    dialect = _DIALECTS[dialect_name]
    compiled = cast(ClauseElement, statement).compile(dialect=dialect)
    slots: list[tuple[str | None, Any, Callable[[Any], Any] | None]] = []
    for name in compiled.positiontup or []:  # type: ignore[attr-defined]
        bind = compiled.binds[name]  # type: ignore[attr-defined]
        if bind.expanding:
            raise TypeError(f"{name}: bind a list with in_list(), not an expanding parameter")
        convert = _bind_converter(bind.type, dialect)
        if bind.required:
            slots.append((bind.key, None, convert))
        else:
            # A value written into the statement (`status == 'OPEN'`): a constant argument.
            value = bind.effective_value
            slots.append(
                (None, value if convert is None or value is None else convert(value), None)
            )
    columns = list(getattr(statement, "exported_columns", None) or [])
    returns_rows = bool(columns)
    if row is not None:
        fields = list(getattr(row, "__struct_fields__", ()))
        names = _column_names(statement)
        if fields != names:
            raise TypeError(f"{row.__name__} has fields {fields}, the statement returns {names}")
    converters = [_result_converter(c.type, dialect) for c in columns]
    return Plan(
        sql=str(compiled),
        args=_arg_builder(slots),
        row=_row_builder(row, converters),
        returns_rows=returns_rows,
    )


class Variants(Generic[R]):
    """A family of statements built once each: one per set of optional clauses present.

    `build(key)` makes the statement for a hashable key (say, which filters were given);
    each key's statement is built and compiled once, then reused.
    """

    __slots__ = ("_build", "_queries", "row")

    @overload
    def __init__(
        self: Variants[tuple[Any, ...]],
        build: Callable[..., Executable | Callable[[Dialect], Executable]],
        row: None = None,
    ) -> None: ...

    @overload
    def __init__(
        self, build: Callable[..., Executable | Callable[[Dialect], Executable]], row: type[R]
    ) -> None: ...

    def __init__(
        self,
        build: Callable[..., Executable | Callable[[Dialect], Executable]],
        row: type[R] | None = None,
    ) -> None:
        self._build = build
        self.row = row
        self._queries: dict[Hashable, Query[R]] = {}

    def __call__(self, *key: Hashable) -> Query[R]:
        query = self._queries.get(key)
        if query is None:
            query = cast(Query[R], Query(self._build(*key), self.row))
            self._queries[key] = query
        return query


def bind(name: str, type_: TypeEngine[Any] | None = None) -> BindParameter[Any]:
    """A named parameter, its type taken from where it is used unless given."""
    return BindParameter(name, type_=type_, required=True)


def binds_for(columns: Sequence[ColumnClause[Any]]) -> dict[str, BindParameter[Any]]:
    """`{column name: parameter of the same name and type}`, for INSERT … VALUES and SET."""
    return {c.name: BindParameter(c.name, type_=c.type, required=True) for c in columns}


# --- connections ------------------------------------------------------------------------------


class Connection:
    """One checked-out connection: statements, its transaction, savepoints, after-commit hooks."""

    dialect: Dialect
    # Whether a writer's transaction already excludes every other writer (SQLite's one write
    # lock); where it does not, writers lock the rows they must serialise on.
    exclusive_writes: bool

    def __init__(self, database: Database) -> None:
        self._database = database
        self._listeners = database.listeners
        self._hooks: list[AfterCommit] = []
        self._before: list[BeforeCommit] = []
        # What features keep for the length of one transaction (deltas to write at its end,
        # say); emptied when it ends.
        self.info: dict[str, Any] = {}
        # Whether the transaction to open (at the next statement) is a writer's, whether one
        # is to be opened, and whether one is open.
        self._write = False
        self._pending = False
        self._active = False
        self._savepoints = itertools.count(1)

    # -- statements ---------------------------------------------------------------------

    async def all(self, query: Query[R], /, **params: Any) -> list[R]:
        plan = query.plan(self.dialect)
        rows = await self._fetch(plan, params)
        make = plan.row
        return [make(r) for r in rows] if make is not None else cast(list[R], rows)

    async def one(self, query: Query[R], /, **params: Any) -> R | None:
        plan = query.plan(self.dialect)
        rows = await self._fetch(plan, params)
        if not rows:
            return None
        make = plan.row
        return make(rows[0]) if make is not None else cast(R, rows[0])

    async def peek(self, query: Query[R], /, **params: Any) -> R | None:
        """One row read before the request's transaction opens, if it has not opened yet.

        For a check that the transaction repeats with its own conditional statements (a
        request still OPEN, say): a caller refused by the check never takes a lock.
        """
        pending, self._pending = self._pending, False
        try:
            return await self.one(query, **params)
        finally:
            self._pending = pending or self._pending

    async def scalar(self, query: Query[Any], /, **params: Any) -> Any:
        rows = await self._fetch(query.plan(self.dialect), params)
        return rows[0][0] if rows else None

    async def run(self, query: Query[Any], /, **params: Any) -> int:
        """Execute a statement that returns no rows; the number of rows it changed."""
        return await self._run(query.plan(self.dialect), params)

    async def run_many(self, query: Query[Any], rows: Sequence[Mapping[str, Any]]) -> None:
        """Execute one statement for each parameter set (bulk INSERT)."""
        if rows:
            plan = query.plan(self.dialect)
            await self._run_many(plan, [plan.args(r) for r in rows])

    # -- transaction --------------------------------------------------------------------

    def begin(self, *, write: bool) -> None:
        """Open a transaction at the next statement: a writer's (the write lock on SQLite) or
        a reader's (one snapshot on SQLite; nothing on PostgreSQL)."""
        self._write = write
        self._pending = True

    @property
    def in_transaction(self) -> bool:
        return self._active

    @asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A nested transaction: an error inside rolls back to here and leaves the rest usable."""
        await self._ensure_transaction(force=True)
        name = f"sp_{next(self._savepoints)}"
        await self._command(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await self._command(f"ROLLBACK TO SAVEPOINT {name}")
            await self._command(f"RELEASE SAVEPOINT {name}")
            raise
        await self._command(f"RELEASE SAVEPOINT {name}")

    def after_commit(self, hook: AfterCommit) -> None:
        """Run `hook` once the transaction has committed (never after a rollback)."""
        self._hooks.append(hook)

    def before_commit(self, hook: BeforeCommit) -> None:
        """Run `hook` inside the transaction, just before it commits: work gathered over the
        transaction (a sum of counts, say) written once, with the rest."""
        self._before.append(hook)

    async def commit(self) -> list[AfterCommit]:
        """Commit what is open; returns the hooks to run now that it has."""
        while self._before:  # a hook may add statements, and hooks
            await self._before.pop(0)()
        self._pending = False
        self.info = {}
        if self._active:
            self._active = False
            try:
                await self._command("COMMIT")
            finally:
                self._end_transaction()
        hooks, self._hooks = self._hooks, []
        return hooks

    async def rollback(self) -> None:
        self._pending = False
        self._hooks = []
        self._before = []
        self.info = {}
        if self._active:
            self._active = False
            try:
                await self._command("ROLLBACK")
            except Exception:
                logger.debug("rollback failed", exc_info=True)
                self._broken = True
            finally:
                self._end_transaction()

    async def _ensure_transaction(self, *, force: bool = False) -> None:
        if self._active:
            return
        if not (self._pending or force):
            return
        if self.dialect == "postgresql" and not self._write and not force:
            return  # reads run statement by statement
        self._pending = False
        await self._begin_transaction()
        self._active = True

    # -- driver specifics ----------------------------------------------------------------

    _broken = False

    async def _begin_transaction(self) -> None:
        raise NotImplementedError

    def _end_transaction(self) -> None:
        return None

    async def _command(self, sql: str) -> None:
        raise NotImplementedError

    async def _fetch(self, plan: Plan, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    async def _run(self, plan: Plan, params: Mapping[str, Any]) -> int:
        raise NotImplementedError

    async def _run_many(self, plan: Plan, args: list[tuple[Any, ...]]) -> None:
        raise NotImplementedError

    def _notify(self, sql: str) -> None:
        for listener in self._listeners:
            listener(sql, self._active)


class SqliteConnection(Connection):
    dialect: Dialect = "sqlite"
    exclusive_writes = True

    def __init__(self, database: SqliteDatabase, raw: sqlite3.Connection) -> None:
        super().__init__(database)
        self._sqlite = database
        self.raw = raw
        self._holds_lock = False

    async def _begin_transaction(self) -> None:
        if self._write:
            await self._sqlite.write_lock().acquire()
            self._holds_lock = True
            try:
                await self._command("BEGIN IMMEDIATE")
            except BaseException:
                self._end_transaction()
                raise
        else:
            await self._command("BEGIN DEFERRED")

    def _end_transaction(self) -> None:
        if self._holds_lock:
            self._holds_lock = False
            self._sqlite.write_lock().release()

    async def _command(self, sql: str) -> None:
        if self._listeners:
            self._notify(sql)
        try:
            self.raw.execute(sql)
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    async def _fetch(self, plan: Plan, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        if self._pending:
            await self._ensure_transaction()
        args = plan.args(params)
        if self._listeners:
            self._notify(plan.sql)
        try:
            return self.raw.execute(plan.sql, args).fetchall()
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    async def _run(self, plan: Plan, params: Mapping[str, Any]) -> int:
        if self._pending:
            await self._ensure_transaction()
        args = plan.args(params)
        if self._listeners:
            self._notify(plan.sql)
        try:
            cursor = self.raw.execute(plan.sql, args)
            if plan.returns_rows:
                return len(cursor.fetchall())
            return cursor.rowcount
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    async def _run_many(self, plan: Plan, args: list[tuple[Any, ...]]) -> None:
        if self._pending:
            await self._ensure_transaction()
        if self._listeners:
            self._notify(plan.sql)
        try:
            self.raw.executemany(plan.sql, args)
        except sqlite3.Error as exc:
            raise _translate(exc) from exc


class PostgresConnection(Connection):
    dialect: Dialect = "postgresql"
    exclusive_writes = False

    def __init__(self, database: PostgresDatabase, raw: Any) -> None:
        super().__init__(database)
        self._postgres = database
        self.raw = raw
        self.pool: Any = None  # the pool it came from, to go back to
        # Nothing has gone through this checkout yet: a connection the server closed while
        # it sat in the pool (a restart, say) may be swapped for a fresh one and the call
        # repeated, since nothing of it ran.
        self._fresh = True

    async def _begin_transaction(self) -> None:
        await self._command("BEGIN")

    async def _call(self, method: str, sql: str, *args: Any) -> Any:
        try:
            result = await getattr(self.raw, method)(sql, *args)
        except BaseException as exc:
            import asyncpg

            server_said_no = isinstance(exc, asyncpg.PostgresError)
            if self._fresh and not server_said_no and isinstance(exc, Exception):
                self._fresh = False
                self.raw = await self._postgres.replace(self.raw)
                return await self._call(method, sql, *args)
            if not server_said_no:
                self._broken = True  # cut or cancelled mid-statement: never handed out again
            failure = _translate(exc) if isinstance(exc, Exception) else exc
            if failure is exc:
                raise
            raise failure from exc
        self._fresh = False
        return result

    async def _command(self, sql: str) -> None:
        if self._listeners:
            self._notify(sql)
        await self._call("execute", sql)

    async def _fetch(self, plan: Plan, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        if self._pending:
            await self._ensure_transaction()
        args = plan.args(params)
        if self._listeners:
            self._notify(plan.sql)
        rows: Sequence[Sequence[Any]] = await self._call("fetch", plan.sql, *args)
        return rows

    async def _run(self, plan: Plan, params: Mapping[str, Any]) -> int:
        if self._pending:
            await self._ensure_transaction()
        args = plan.args(params)
        if self._listeners:
            self._notify(plan.sql)
        if plan.returns_rows:
            return len(await self._call("fetch", plan.sql, *args))
        status: str = await self._call("execute", plan.sql, *args)
        count = status.rsplit(" ", 1)[-1]
        return int(count) if count.isdigit() else 0

    async def _run_many(self, plan: Plan, args: list[tuple[Any, ...]]) -> None:
        if self._pending:
            await self._ensure_transaction()
        if self._listeners:
            self._notify(plan.sql)
        await self._call("executemany", plan.sql, args)


# --- databases -------------------------------------------------------------------------------


class Database:
    """The pool of connections to one database, and the one way to run a transaction on it."""

    dialect: Dialect

    def __init__(self) -> None:
        # Called with each statement's SQL and whether a transaction is open: the query log
        # of tests and benchmarks. Empty in production, where it costs one truth test.
        self.listeners: list[Listener] = []
        # Connections checked out now, and the most at once since `peak` was last reset.
        self.in_use = 0
        self.peak = 0

    def _checked_out(self) -> None:
        self.in_use += 1
        self.peak = max(self.peak, self.in_use)

    def _checked_in(self) -> None:
        self.in_use -= 1

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def checkout(self) -> Connection:
        """A connection of the pool, for the caller to give back with `checkin`."""
        raise NotImplementedError

    async def checkin(self, conn: Connection) -> None:
        """Give a connection back: whatever it left open is rolled back first."""
        raise NotImplementedError

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Connection]:
        conn = await self.checkout()
        try:
            yield conn
        finally:
            await self.checkin(conn)

    @asynccontextmanager
    async def transaction(self, *, write: bool = True) -> AsyncIterator[Connection]:
        """One transaction: committed on success, rolled back on error; hooks run after commit.

        It opens at the first statement, so work done before it (hashing a password, say)
        holds no lock.
        """
        async with self.acquire() as conn:
            conn.begin(write=write)
            try:
                yield conn
            except BaseException:
                await conn.rollback()
                raise
            hooks = await conn.commit()
        await run_hooks(hooks)

    async def ping(self) -> bool:
        try:
            async with self.acquire() as conn:
                await conn.scalar(_PING)
            return True
        except Exception:
            logger.warning("database ping failed", exc_info=True)
            return False


async def run_hooks(hooks: list[AfterCommit]) -> None:
    for hook in hooks:
        try:
            await hook()
        except Exception:
            logger.exception("after-commit hook failed")


class SqliteDatabase(Database):
    dialect: Dialect = "sqlite"

    def __init__(self, path: str, *, keep_idle: int = 20) -> None:
        super().__init__()
        self.path = path
        self._keep_idle = keep_idle
        self._idle: list[sqlite3.Connection] = []
        self._lock: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    def write_lock(self) -> asyncio.Lock:
        # One lock per event loop: a database may outlive a test's loop.
        loop = asyncio.get_running_loop()
        if self._lock is None or self._lock[0] is not loop:
            self._lock = (loop, asyncio.Lock())
        return self._lock[1]

    def _open(self) -> sqlite3.Connection:
        raw = sqlite3.connect(
            self.path,
            timeout=SQLITE_BUSY_SECONDS,
            isolation_level=None,  # transactions are ours to begin
            check_same_thread=False,
        )
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000}")
        raw.execute("PRAGMA foreign_keys=ON")
        raw.execute("PRAGMA synchronous=NORMAL")
        return raw

    async def checkout(self) -> Connection:
        try:
            raw = self._idle.pop() if self._idle else self._open()
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        self._checked_out()
        return SqliteConnection(self, raw)

    async def checkin(self, conn: Connection) -> None:
        assert isinstance(conn, SqliteConnection)
        self._checked_in()
        await conn.rollback()
        raw = conn.raw
        if raw.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                raw.execute("ROLLBACK")
        if len(self._idle) < self._keep_idle and not raw.in_transaction:
            self._idle.append(raw)
        else:
            raw.close()

    async def close(self) -> None:
        while self._idle:
            self._idle.pop().close()


class PostgresDatabase(Database):
    dialect: Dialect = "postgresql"

    def __init__(self, dsn: str, *, size: int, connect_timeout: float) -> None:
        super().__init__()
        self.dsn = dsn
        self._size = size
        self._connect_timeout = connect_timeout
        self._pool: Any = None
        self._starting: asyncio.Task[Any] | None = None

    async def start(self) -> None:
        await self._get_pool()

    async def _get_pool(self) -> Any:
        if self._pool is not None:
            return self._pool
        import asyncpg

        if self._starting is None or (self._starting.done() and self._starting.exception()):
            self._starting = asyncio.ensure_future(
                asyncpg.create_pool(
                    self.dsn,
                    min_size=0,
                    max_size=self._size,
                    timeout=self._connect_timeout,
                    statement_cache_size=STATEMENT_CACHE_SIZE,
                    init=_init_postgres_connection,
                    # Our connections go back idle (committed or rolled back): asyncpg's
                    # default reset would cost a round trip per checkout.
                    reset=_no_reset,
                )
            )
        try:
            self._pool = await asyncio.shield(self._starting)
        except Exception as exc:
            raise _translate(exc) from exc
        return self._pool

    async def checkout(self) -> Connection:
        pool = await self._get_pool()
        try:
            raw = await pool.acquire(timeout=POOL_TIMEOUT_SECONDS)
        except Exception as exc:
            raise _translate(exc) from exc
        self._checked_out()
        conn = PostgresConnection(self, raw)
        conn.pool = pool
        return conn

    async def checkin(self, conn: Connection) -> None:
        assert isinstance(conn, PostgresConnection)
        self._checked_in()
        await conn.rollback()
        try:
            if conn._broken and not conn.raw.is_closed():
                conn.raw.terminate()
            await conn.pool.release(conn.raw)
        except Exception:
            # Closed under us: asyncpg has already given its slot back to the pool.
            logger.debug("connection release failed", exc_info=True)

    async def replace(self, raw: Any) -> Any:
        """A fresh connection in place of `raw`, which is dropped."""
        pool = await self._get_pool()
        try:
            if not raw.is_closed():
                raw.terminate()
            await pool.release(raw)
        except Exception:
            logger.debug("dropping a dead connection failed", exc_info=True)
        try:
            return await pool.acquire(timeout=POOL_TIMEOUT_SECONDS)
        except Exception as exc:
            raise _translate(exc) from exc

    async def close(self) -> None:
        """Close every connection; the next use opens a new pool (on the loop of that use)."""
        self._starting = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()


async def _init_postgres_connection(conn: Any) -> None:
    # json/jsonb as text on the way in (the column type has already encoded the value, as
    # SQLAlchemy's JSON types do) and as Python values on the way out.
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, schema="pg_catalog", encoder=str, decoder=msgspec.json.decode, format="text"
        )
    await conn.execute("SET TIME ZONE 'UTC'")


async def _no_reset(_: Any) -> None:
    return None


def create_database(settings: Settings) -> Database:
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        return SqliteDatabase(url.database or ":memory:", keep_idle=settings.database_pool_size)
    dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
    return PostgresDatabase(
        dsn,
        size=settings.database_pool_size + settings.database_max_overflow,
        connect_timeout=settings.database_connect_timeout_seconds,
    )


def _ping_statement() -> Executable:
    from sqlalchemy import literal, select

    return select(literal(1))


_PING: Query[tuple[int]] = Query(_ping_statement())


def insert_ignoring_conflicts(dialect: Dialect, table: Any) -> Any:
    """`INSERT … ON CONFLICT DO NOTHING` in `dialect`."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).on_conflict_do_nothing()
