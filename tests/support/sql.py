"""Statements built for one call, for tests that set up or inspect rows directly.

The application runs only prebuilt `peerview.db.Query`s; tests write what they need with
SQLAlchemy Core and run it here: compiled on the spot (values written into the statement,
lists bound to IN expanded), on the same connection and transaction as the application's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from sqlalchemy.sql import ClauseElement, Executable

from peerview.db import (
    _DIALECTS,
    Connection,
    Plan,
    _bind_converter,
    _column_names,
    _result_converter,
)


class Record(tuple[Any, ...]):
    """A row of `Connection.execute`: by position, by attribute, or as a mapping."""

    _fields: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        try:
            return self[self._fields.index(name)]
        except ValueError:
            raise AttributeError(name) from None

    @property
    def mapping(self) -> dict[str, Any]:
        return dict(zip(self._fields, self, strict=True))


class Result:
    """What `Connection.execute` returns: the rows, or how many rows changed."""

    def __init__(self, rows: list[Record], rowcount: int) -> None:
        self._rows = rows
        self.rowcount = rowcount

    def all(self) -> list[Record]:
        return self._rows

    def first(self) -> Record | None:
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0][0]

    def scalar_one_or_none(self) -> Any:
        return self.scalar()

    def scalars(self) -> _Scalars:
        return _Scalars([r[0] for r in self._rows])

    def mappings(self) -> _Mappings:
        return _Mappings([r.mapping for r in self._rows])

    def __iter__(self) -> Any:
        return iter(self._rows)


class _Scalars:
    def __init__(self, values: list[Any]) -> None:
        self._values = values

    def all(self) -> list[Any]:
        return self._values


class _Mappings:
    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self._rows = rows

    def all(self) -> list[dict[str, Any]]:
        return self._rows

    def first(self) -> dict[str, Any] | None:
        return self._rows[0] if self._rows else None

    def one(self) -> dict[str, Any]:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def __iter__(self) -> Any:
        return iter(self._rows)


async def execute(
    conn: Connection,
    statement: Executable,
    params: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
) -> Result:
    """Compile and run a statement built for this one call (values written into it)."""
    dialect = _DIALECTS[conn.dialect]
    if isinstance(params, Sequence) and not isinstance(params, Mapping):
        many = list(params)
        if not many:
            return Result([], 0)
        compiled = cast(ClauseElement, statement).compile(
            dialect=dialect, column_keys=list(many[0])
        )
        names = list(compiled.positiontup or [])  # type: ignore[attr-defined]
        converters = [_bind_converter(compiled.binds[n].type, dialect) for n in names]  # type: ignore[attr-defined]
        rows = [
            tuple(
                row[n] if c is None or row[n] is None else c(row[n])
                for n, c in zip(names, converters, strict=True)
            )
            for row in many
        ]
        plan = Plan(sql=str(compiled), args=lambda _: (), row=None, returns_rows=False)
        await conn._run_many(plan, rows)
        return Result([], len(rows))
    keys = list(cast(Mapping[str, Any], params)) if params else None
    compiled = cast(ClauseElement, statement).compile(dialect=dialect, column_keys=keys)
    values = compiled.construct_params(cast(Mapping[str, Any], params or {}))
    # Lists bound to IN (…) become one parameter per element, as SQLAlchemy does.
    expanded = compiled._process_parameters_for_postcompile(values)  # type: ignore[attr-defined]
    processors = {**compiled._bind_processors, **(expanded.processors or {})}  # type: ignore[attr-defined]
    args: list[Any] = []
    for name in expanded.positiontup or []:
        value = expanded.parameters[name]
        convert = processors.get(name)
        args.append(value if convert is None or value is None else convert(value))
    constant_args = tuple(args)
    columns = list(getattr(statement, "exported_columns", None) or [])
    sql = str(expanded.statement)
    # Text statements carry no columns: a query is known by its first word.
    reads = sql.lstrip().split(None, 1)[0].upper() in ("SELECT", "WITH", "PRAGMA", "VALUES")
    plan = Plan(
        sql=sql,
        args=lambda _: constant_args,
        row=None,
        returns_rows=bool(columns) or reads or " RETURNING " in sql.upper(),
    )
    if not plan.returns_rows:
        return Result([], await conn._run(plan, {}))
    raw_rows = await conn._fetch(plan, {})
    fields = tuple(_column_names(statement))
    results = [_result_converter(c.type, dialect) for c in columns]
    out = []
    for raw in raw_rows:
        if not results:
            results = [None] * len(raw)
        record = Record(v if c is None else c(v) for v, c in zip(raw, results, strict=True))
        record._fields = fields
        out.append(record)
    return Result(out, len(out))


RowMapping = dict[str, Any]
