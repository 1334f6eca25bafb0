"""Pieces of SQL the analytics statements share: those whose text differs between SQLite and
PostgreSQL (UTC days and weeks, exact durations; each takes the dialect, or a connection whose
dialect it uses), sums that come back as integers from both, a period's optional bounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    DateTime,
    Float,
    Integer,
    case,
    cast,
    extract,
    func,
    literal_column,
)

from peerview.db import Connection, Dialect, bind
from peerview.models.base import UTCDateTime

MICROSECONDS = 1_000_000


def _dialect(of: Dialect | Connection) -> Dialect:
    return of.dialect if isinstance(of, Connection) else of


def day_of(of: Dialect | Connection, column: Any) -> ColumnElement[date]:
    """The UTC date of a timestamp."""
    if _dialect(of) == "postgresql":
        return cast(func.timezone("UTC", column), Date)
    return func.date(column, type_=Date)


def week_start(of: Dialect | Connection, column: Any) -> ColumnElement[date]:
    """The Monday (UTC) of the ISO week of `column`."""
    if _dialect(of) == "postgresql":
        # date_trunc on a timestamptz truncates in the connection's time zone: pin UTC first.
        return cast(func.date_trunc("week", func.timezone("UTC", column)), Date)
    # SQLite keeps naive UTC text. 'weekday 0' moves forward to the week's Sunday (staying on
    # a Sunday), and the ISO week that Sunday ends began six days earlier.
    return func.date(column, "weekday 0", "-6 days", type_=Date)


def week_of_day(of: Dialect | Connection, column: Any) -> ColumnElement[date]:
    """The Monday of the ISO week of a UTC day (a DATE column, as the rollups keep their days)."""
    if _dialect(of) == "postgresql":
        # A date given to date_trunc would become a timestamptz at the connection's time zone:
        # as a plain timestamp it stays the day it is.
        return cast(func.date_trunc("week", cast(column, DateTime(timezone=False))), Date)
    return func.date(column, "weekday 0", "-6 days", type_=Date)


def micros_between(of: Dialect | Connection, later: Any, earlier: Any) -> ColumnElement[int]:
    """`later - earlier` in whole microseconds, exactly (both store microseconds)."""
    if _dialect(of) == "postgresql":
        # EXTRACT(EPOCH …) is an exact NUMERIC from PostgreSQL 14 on.
        seconds = extract("epoch", later) - extract("epoch", earlier)
        return cast(seconds * MICROSECONDS, BigInteger)
    # SQLite keeps 'YYYY-MM-DD HH:MM:SS.ffffff'. Whole seconds from the text without its
    # fraction (strftime would round the fraction to milliseconds first), then the fractions.
    whole = cast(func.strftime("%s", func.substr(later, 1, 19)), Integer) - cast(
        func.strftime("%s", func.substr(earlier, 1, 19)), Integer
    )
    fraction = cast(func.substr(later, 21, 6), Integer) - cast(func.substr(earlier, 21, 6), Integer)
    return whole * MICROSECONDS + fraction


def minutes_between(of: Dialect | Connection, later: Any, earlier: Any) -> ColumnElement[Any]:
    return cast(micros_between(of, later, earlier), Float) / 60_000_000


def text_value(value: str) -> ColumnElement[str]:
    """A string constant written into the statement: both databases then know its type (a
    bound parameter in a UNION's or CASE's result would leave PostgreSQL guessing)."""
    return literal_column(f"'{value}'")


def total(value: Any) -> ColumnElement[int]:
    """A sum as a plain integer on both databases (PostgreSQL sums BIGINT into NUMERIC)."""
    return cast(func.coalesce(func.sum(value), 0), BigInteger)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return total(case((condition, 1), else_=0))


@dataclass(frozen=True, slots=True)
class Bounds:
    """Which bounds a statement's period has: its key among the statement's variants."""

    start: bool
    end: bool

    def on(self, column: Any) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.start:
            out.append(column >= bind("start", UTCDateTime()))
        if self.end:
            out.append(column < bind("end", UTCDateTime()))
        return out


def bounds_params(start: datetime | None, end: datetime | None) -> tuple[Bounds, dict[str, Any]]:
    """The variant key and parameters of a period's bounds on `created_at`."""
    params = {name: value for name, value in (("start", start), ("end", end)) if value is not None}
    return Bounds(start is not None, end is not None), params


# --- the same rules in Python, for what the application computes itself ---------------------


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def monday_of(moment: datetime) -> date:
    day = utc_day(moment)
    return day - timedelta(days=day.weekday())


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)
