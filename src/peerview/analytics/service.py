"""Analytics for a user and for the platform, shaped into docs/api.md §10.

Averages are computed here from exact integer sums and counts, and durations from exact
microseconds, then rounded half-up to 2 decimals: the same figures on both databases.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from peerview.analytics import my_repository, repository
from peerview.analytics.buckets import median_minutes, middle_of
from peerview.analytics.errors import InvalidPeriod
from peerview.analytics.my_repository import MyGroup
from peerview.analytics.periods import Period, split
from peerview.analytics.repository import Count
from peerview.analytics.schemas import (
    CategoryActivity,
    CategoryRatings,
    Funnel,
    MyAnalytics,
    MySessionCounts,
    PlatformAnalytics,
    PlatformSessionCounts,
    RatingsReceived,
    WeeklyActiveUsers,
    WeeklyActivity,
    WeeklySessions,
)
from peerview.context import Ctx
from peerview.db import Connection
from peerview.feedback import service as feedback_service
from peerview.interview_sessions.lifecycle import TimeRules
from peerview.models.enums import RequestStatus, SessionStatus

_CENT = Decimal("0.01")
_MINUTE_US = Decimal(60_000_000)


def rounded(value: Any) -> float | None:
    """Half-up to 2 decimals, the same on both databases (through the shortest decimal text,
    so a float and an exact Decimal of the same value agree)."""
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP))


def average(total: int, count: int) -> float | None:
    """`total / count` exactly, rounded half-up to 2 decimals; None when there is nothing."""
    if not count:
        return None
    return rounded(Decimal(total) / Decimal(count))


def period_of(start: datetime | None, end: datetime | None) -> Period:
    if start is not None and end is not None and start > end:
        raise InvalidPeriod()
    return Period(start=start, end=end)


def _as_date(value: Any) -> date:
    # PostgreSQL gives a date; SQLite's date() text is parsed by the Date type, but a driver
    # that hands back text anyway is still understood.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def mine(ctx: Ctx, *, period: Period) -> MyAnalytics:
    actor = ctx.actor
    # Admins see every feedback (docs/api.md §7), so nothing is sealed for them.
    reveal_after = None if actor.is_admin else feedback_service.REVEAL_AFTER
    figures = await my_repository.mine(
        ctx.db,
        user_id=actor.id,
        now=ctx.now,
        rules=ctx.rules,
        reveal_after=reveal_after,
        start=period.start,
        end=period.end,
    )
    totals, ratings = figures.totals, figures.ratings
    return MyAnalytics(
        sessions=MySessionCounts(
            completed=totals.completed,
            cancelled=totals.cancelled,
            live=totals.live,
            scheduled=totals.scheduled,
            as_interviewer=totals.as_interviewer,
            as_interviewee=totals.as_interviewee,
            practice=totals.practice,
        ),
        minutes_practised=rounded(Decimal(totals.practised_us) / _MINUTE_US) or 0.0,
        ratings_received=RatingsReceived(
            communication=average(ratings.communication, ratings.count),
            problem_solving=average(ratings.problem_solving, ratings.count),
            technical=average(ratings.technical, ratings.count),
            overall=average(ratings.overall, ratings.count),
            count=ratings.count,
        ),
        by_category=[
            CategoryActivity(
                category=str(group.what),
                sessions=group.sessions,
                average_overall=average(group.overall_sum, group.overall_count),
            )
            for group in _in_order(figures.by_category)
        ],
        weekly=[
            WeeklyActivity(
                week_start=_as_date(group.what),
                sessions=group.sessions,
                average_overall=average(group.overall_sum, group.overall_count),
            )
            for group in _in_order(figures.weekly)
        ],
    )


def _in_order(groups: list[MyGroup]) -> list[MyGroup]:
    # By code point on both databases, whatever PostgreSQL's collation.
    return sorted(groups, key=lambda group: str(group.what))


def _sum_by_item(counts: list[Count], part: str) -> tuple[Counter[str], Counter[str]]:
    """The `n` and `total` of one part's rows, added up by item."""
    n: Counter[str] = Counter()
    total: Counter[str] = Counter()
    for row in counts:
        if row.part == part and row.item is not None and row.n:
            n[row.item] += row.n
            total[row.item] += row.total
    return n, total


_OUTCOMES = ("completed", "auto_timeout", "no_show", "cancelled", "live", "scheduled")


def _sessions_by_week(counts: list[Count]) -> list[WeeklySessions]:
    """The sessions' rows added up by week and outcome, weeks with none left out, oldest first."""
    weeks: defaultdict[date, Counter[str]] = defaultdict(Counter)
    for row in counts:
        if row.part == "session" and row.item is not None and row.week is not None and row.n:
            weeks[_as_date(row.week)][row.item] += row.n
    return [
        WeeklySessions(
            week_start=week,
            sessions=sum(outcomes[o] for o in _OUTCOMES),
            **{o: outcomes[o] for o in _OUTCOMES},
        )
        for week, outcomes in sorted(weeks.items())
    ]


async def _median(db: Connection, waits: Counter[str], period: Period) -> Decimal | None:
    """The exact median wait in minutes: the histogram says which range of waits holds the
    middle rank(s) and at which positions in it; only those values are read."""
    middle = middle_of([(int(bucket), n) for bucket, n in waits.items()])
    if middle is None:
        return None
    values = await repository.waits_between(
        db,
        low=middle.low,
        high=middle.high,
        skip=middle.first,
        take=middle.second - middle.first + 1,
        start=period.start,
        end=period.end,
    )
    return median_minutes(values)


async def platform(ctx: Ctx, *, period: Period) -> PlatformAnalytics:
    db = ctx.db
    parts = split(period)
    counts = await repository.platform_counts(
        db, split=parts, now=ctx.now, rules=ctx.rules, by_week=True
    )
    by_status, _ = _sum_by_item(counts, "request")
    waits, _ = _sum_by_item(counts, "wait")
    outcomes, _ = _sum_by_item(counts, "session")
    ratings, overall = _sum_by_item(counts, "rating")
    median = await _median(db, waits, parts.period)
    active = await repository.active_users_weekly(db, split=parts)
    return PlatformAnalytics(
        funnel=Funnel(
            created=sum(by_status.values()),
            **{status.value.lower(): by_status[status.value] for status in RequestStatus},
        ),
        median_minutes_to_accept=rounded(median),
        sessions=PlatformSessionCounts(
            completed=outcomes["completed"],
            auto_timeout=outcomes["auto_timeout"],
            no_show=outcomes["no_show"],
            cancelled=outcomes["cancelled"],
            live=outcomes["live"],
            scheduled=outcomes["scheduled"],
        ),
        ratings_by_category=[
            CategoryRatings(
                category=category,
                count=ratings[category],
                average_overall=average(overall[category], ratings[category]),
            )
            for category in sorted(ratings)
        ],
        active_users_weekly=[
            WeeklyActiveUsers(week_start=_as_date(row.week_start), users=row.users)
            for row in active
        ],
        sessions_weekly=_sessions_by_week(counts),
    )


async def sessions_by_state(
    *, db: Connection, now: datetime, rules: TimeRules
) -> dict[SessionStatus, int]:
    """How many sessions are in each state right now (read-time truth), zeros included."""
    counts = await repository.platform_counts(db, split=split(Period()), now=now, rules=rules)
    outcomes, _ = _sum_by_item(counts, "session")
    return {
        SessionStatus.COMPLETED: outcomes["completed"] + outcomes["auto_timeout"],
        SessionStatus.CANCELLED: outcomes["cancelled"] + outcomes["no_show"],
        SessionStatus.LIVE: outcomes["live"],
        SessionStatus.SCHEDULED: outcomes["scheduled"],
    }
