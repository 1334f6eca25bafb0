"""The wait histogram's buckets, the same in Python and in SQL, and the exact median."""

from __future__ import annotations

import random
import statistics
from decimal import Decimal

import pytest
from fastapi import FastAPI
from sqlalchemy import BigInteger, select

from peerview.analytics.buckets import (
    bounds_of,
    bucket_of,
    bucket_of_seconds,
    median_minutes,
    middle_of,
    seconds_of,
)
from peerview.db import Query, bind

SECOND = 1_000_000
WAITS = [
    *range(-3 * SECOND, 3 * SECOND, 250_000),
    *(sign * (1 << k) + delta for k in range(0, 46) for sign in (1, -1) for delta in (-1, 0, 1)),
    *(random.Random(5).randint(-(10**15), 10**15) for _ in range(300)),
    127 * SECOND,
    128 * SECOND,
    128 * SECOND - 1,
    60 * 86_400 * SECOND,
]


def test_every_wait_lies_in_its_bucket_and_buckets_follow_the_waits() -> None:
    previous = None
    for wait in sorted(WAITS):
        bucket = bucket_of(wait)
        low, high = bounds_of(bucket)
        assert low <= wait < high, (wait, bucket, low, high)
        assert previous is None or previous <= bucket
        previous = bucket


def test_buckets_tile_the_waits_without_gaps() -> None:
    for bucket in range(-3000, 3000):
        assert bounds_of(bucket)[1] == bounds_of(bucket + 1)[0], bucket


def test_a_bucket_spans_at_most_a_64th_of_its_waits_above_two_minutes() -> None:
    for bucket in range(128, 2200):
        low, high = bounds_of(bucket)
        assert (high - low) * 64 <= low


_BUCKET = Query(select(bucket_of_seconds(seconds_of(bind("wait", BigInteger())))))


async def test_the_database_puts_each_wait_in_the_same_bucket(app: FastAPI) -> None:
    async with app.services.database.transaction(write=False) as db:
        for wait in WAITS:
            assert await db.scalar(_BUCKET, wait=wait) == bucket_of(wait), wait


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 10, 11, 200, 201])
def test_the_median_read_through_the_histogram_is_the_exact_median(count: int) -> None:
    rng = random.Random(count)
    # Clustered waits, so that the middle ranks often share a bucket or straddle two.
    waits = sorted(
        rng.choice([rng.randint(0, 10**9), rng.randint(10**9, 2 * 10**9)]) for _ in range(count)
    )
    histogram: dict[int, int] = {}
    for wait in waits:
        histogram[bucket_of(wait)] = histogram.get(bucket_of(wait), 0) + 1
    middle = middle_of(list(histogram.items()))
    assert middle is not None
    in_range = [w for w in waits if middle.low <= w < middle.high]
    expected = Decimal(str(statistics.median(waits))) / Decimal(60 * SECOND)
    assert median_minutes(in_range[middle.first : middle.second + 1]) == expected


def test_an_empty_histogram_has_no_middle() -> None:
    assert middle_of([]) is None
    assert middle_of([(5, 0)]) is None
