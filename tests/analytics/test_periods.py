"""A period splits into whole UTC days (rollups) and at most two part days (rows)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

from peerview.analytics.periods import Period, split
from tests.analytics.support import at


def test_no_bounds_is_every_whole_day_and_no_part_day() -> None:
    parts = split(Period())
    assert parts.whole_days
    assert (parts.first_day, parts.end_day, parts.edges) == (None, None, ())
    assert parts.period.unbounded


def test_bounds_at_midnight_are_whole_days_only() -> None:
    parts = split(Period(at(7, 0), at(9, 0)))
    assert parts.whole_days
    assert (parts.first_day, parts.end_day) == (date(2030, 1, 7), date(2030, 1, 9))
    assert parts.edges == ()


def test_bounds_within_days_add_the_parts_of_the_first_and_last_day() -> None:
    parts = split(Period(at(7, 9, 30), at(10, 14)))
    assert (parts.first_day, parts.end_day) == (date(2030, 1, 8), date(2030, 1, 10))
    assert parts.edges == ((at(7, 9, 30), at(8, 0)), (at(10, 0), at(10, 14)))


def test_one_open_bound() -> None:
    since = split(Period(start=at(7, 9)))
    assert (since.first_day, since.end_day, since.edges) == (
        date(2030, 1, 8),
        None,
        ((at(7, 9), at(8, 0)),),
    )
    until = split(Period(end=at(7, 9)))
    assert (until.first_day, until.end_day, until.edges) == (
        None,
        date(2030, 1, 7),
        ((at(7, 0), at(7, 9)),),
    )


def test_a_period_within_one_day_or_across_one_midnight_is_read_from_the_rows() -> None:
    assert split(Period(at(7, 9), at(7, 17))).edges == ((at(7, 9), at(7, 17)),)
    assert not split(Period(at(7, 9), at(7, 17))).whole_days
    assert split(Period(at(7, 9), at(8, 3))).edges == ((at(7, 9), at(8, 3)),)
    assert split(Period(at(7, 9), at(8, 0))).edges == ((at(7, 9), at(8, 0)),)
    assert split(Period(at(7, 0), at(7, 17))).edges == ((at(7, 0), at(7, 17)),)


def test_an_empty_period_reads_nothing() -> None:
    parts = split(Period(at(7, 9), at(7, 9)))
    assert (parts.whole_days, parts.edges) == (False, ())


def test_days_are_utc_days_whatever_the_offset_of_the_bounds() -> None:
    plus_two = timezone(timedelta(hours=2))
    # 01:00 at +02:00 is 23:00 UTC the day before.
    parts = split(Period(start=datetime(2030, 1, 8, 1, 0, tzinfo=plus_two)))
    assert parts.first_day == date(2030, 1, 8)
    assert parts.edges == ((datetime(2030, 1, 7, 23, 0, tzinfo=UTC), at(8, 0)),)
