"""A period of `created_at` split into whole UTC days (read from the rollups) and the parts of
its first and last days (read from the rows themselves, through their `created_at` index)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from peerview.analytics.sql import midnight, utc_day


@dataclass(frozen=True, slots=True)
class Period:
    """Optional bounds on `created_at`: `start` inclusive, `end` exclusive."""

    start: datetime | None = None
    end: datetime | None = None

    @property
    def unbounded(self) -> bool:
        return self.start is None and self.end is None


@dataclass(frozen=True, slots=True)
class Split:
    """`period` = the whole days `[first_day, end_day)` (either side open when None; none at all
    when `whole_days` is false) + the instants of `edges`, each `[from, to)`, at most two."""

    period: Period
    whole_days: bool
    first_day: date | None
    end_day: date | None
    edges: tuple[tuple[datetime, datetime], ...]


def split(period: Period) -> Split:
    start = period.start.astimezone(UTC) if period.start is not None else None
    end = period.end.astimezone(UTC) if period.end is not None else None
    period = Period(start, end)
    first_day = end_day = None
    head = tail = None
    if start is not None:
        first_day = utc_day(start)
        if start != midnight(first_day):
            first_day += timedelta(days=1)
            head = (start, midnight(first_day))
    if end is not None:
        end_day = utc_day(end)
        if end != midnight(end_day):
            tail = (midnight(end_day), end)
    if first_day is not None and end_day is not None and first_day >= end_day:
        # Within one day (or two part days): no whole day, the rows of the period itself.
        edges: tuple[tuple[datetime, datetime], ...] = ()
        if start is not None and end is not None and start < end:
            edges = ((start, end),)
        return Split(period, whole_days=False, first_day=None, end_day=None, edges=edges)
    edges = tuple(edge for edge in (head, tail) if edge is not None)
    return Split(period, whole_days=True, first_day=first_day, end_day=end_day, edges=edges)
