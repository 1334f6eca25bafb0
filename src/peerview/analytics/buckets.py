"""The buckets of the wait-for-acceptance histogram, and the exact median found through them.

A wait is `accepted_at - created_at` in whole microseconds. Its bucket depends on its whole
seconds `s` only: each second its own bucket below 128 s, then 64 buckets per doubling (a
bucket spans less than 1/64 of its values), mirrored below zero. The function is monotone,
so the values of consecutive ranks lie in consecutive buckets, and each bucket is one range
of values `[low, high)`: the median is found by counting down the histogram to the bucket(s)
that hold the middle rank(s), then reading the exact values at those ranks within that range
only.

Pure Python, and the same function as SQL (`bucket_of_seconds`) for what is counted inside
the database: the two must agree, and a test holds them to it on both databases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, case, literal_column

MICROSECONDS = 1_000_000
# Below this many seconds, one bucket per second; above, this many per doubling.
EXACT_BELOW = 128
PER_DOUBLING = 64
# Waits between two datetimes (years 1 to 9999) stay below 2**39 seconds either way.
MAX_EXPONENT = 33


def _bucket_of_nonnegative(seconds: int) -> int:
    if seconds < EXACT_BELOW:
        return seconds
    exponent = seconds.bit_length() - 7
    return exponent * PER_DOUBLING + (seconds >> exponent)


def _seconds_of_nonnegative(bucket: int) -> tuple[int, int]:
    if bucket < EXACT_BELOW:
        return bucket, bucket + 1
    exponent = bucket // PER_DOUBLING - 1
    mantissa = bucket - exponent * PER_DOUBLING
    return mantissa << exponent, (mantissa + 1) << exponent


def bucket_of(wait_us: int) -> int:
    """The histogram bucket of a wait in microseconds."""
    seconds = wait_us // MICROSECONDS
    if seconds >= 0:
        return _bucket_of_nonnegative(seconds)
    return -1 - _bucket_of_nonnegative(-1 - seconds)


def bounds_of(bucket: int) -> tuple[int, int]:
    """The waits in microseconds that fall in `bucket`: `[low, high)`."""
    if bucket >= 0:
        low, high = _seconds_of_nonnegative(bucket)
    else:
        mirror_low, mirror_high = _seconds_of_nonnegative(-1 - bucket)
        low, high = -mirror_high, -mirror_low
    return low * MICROSECONDS, high * MICROSECONDS


# --- the same in SQL ---------------------------------------------------------------------------


def _int(value: int) -> ColumnElement[Any]:
    # Written into the statement: both databases then divide integers as integers.
    return literal_column(str(value))


def seconds_of(wait_us: ColumnElement[Any]) -> ColumnElement[Any]:
    """Whole seconds of a wait in microseconds, rounded down (SQL's `/` truncates)."""
    return case(
        (wait_us >= 0, wait_us.op("/", precedence=8)(_int(MICROSECONDS))),
        else_=_int(0) - (_int(-1) - wait_us).op("/", precedence=8)(_int(MICROSECONDS)) - _int(1),
    )


def _sql_bucket_of_nonnegative(seconds: ColumnElement[Any]) -> ColumnElement[Any]:
    whens: list[tuple[ColumnElement[bool], ColumnElement[Any]]] = [
        (seconds < _int(EXACT_BELOW), seconds)
    ]
    for exponent in range(1, MAX_EXPONENT + 1):
        whens.append(
            (
                seconds < _int(1 << (7 + exponent)),
                _int(exponent * PER_DOUBLING) + seconds.op("/", precedence=8)(_int(1 << exponent)),
            )
        )
    return case(*whens)


def bucket_of_seconds(seconds: ColumnElement[Any]) -> ColumnElement[Any]:
    """`bucket_of` as SQL, of the whole seconds of a wait (`seconds_of`)."""
    return case(
        (seconds >= 0, _sql_bucket_of_nonnegative(seconds)),
        else_=_int(-1) - _sql_bucket_of_nonnegative(_int(-1) - seconds),
    )


# --- the median ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Middle:
    """Where the middle of a histogram lies: the values in `[low, high)` hold the middle
    rank(s); `first` and `second` are their positions among those values in order."""

    low: int
    high: int
    first: int
    second: int


def middle_of(histogram: Sequence[tuple[int, int]]) -> Middle | None:
    """The range of waits that holds the middle rank(s) of `histogram` ((bucket, count) pairs,
    any order); None when it is empty."""
    ordered = sorted((bucket, count) for bucket, count in histogram if count)
    total = sum(count for _, count in ordered)
    if total == 0:
        return None
    # 0-based ranks of the middle value, or of the middle two.
    first_rank, second_rank = (total - 1) // 2, total // 2
    first: tuple[int, int] | None = None  # the first rank's bucket, and the count below it
    below = 0
    for bucket, count in ordered:
        if first is None and first_rank < below + count:
            first = (bucket, below)
        if second_rank < below + count:
            assert first is not None
            first_bucket, first_below = first
            return Middle(
                low=bounds_of(first_bucket)[0],
                high=bounds_of(bucket)[1],
                first=first_rank - first_below,
                second=second_rank - first_below,
            )
        below += count
    raise AssertionError("unreachable: the ranks are below the total")


def median_minutes(middle_values: Sequence[int]) -> Decimal:
    """The exact median in minutes of the middle value, or the middle two (microseconds)."""
    total_us = middle_values[0] + middle_values[-1]
    return Decimal(total_us) / Decimal(2 * 60 * MICROSECONDS)
