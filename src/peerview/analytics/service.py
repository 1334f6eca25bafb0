"""Analytics for a user and for the platform: aggregate queries shaped into docs/api.md §10."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from peerview.analytics import repository
from peerview.analytics.errors import InvalidPeriod
from peerview.analytics.repository import Period
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
)
from peerview.context import Ctx
from peerview.db import Connection
from peerview.feedback import service as feedback_service
from peerview.interview_sessions.lifecycle import TimeRules
from peerview.models.enums import SessionStatus

_CENT = Decimal("0.01")


def rounded(value: Any) -> float | None:
    """Half-up to 2 decimals, the same on both databases (PostgreSQL's AVG is exact NUMERIC,
    SQLite's a float: going through the shortest decimal text makes them agree)."""
    if value is None:
        return None
    return float(Decimal(str(value)).quantize(_CENT, rounding=ROUND_HALF_UP))


def period_of(start: datetime | None, end: datetime | None) -> Period:
    if start is not None and end is not None and start > end:
        raise InvalidPeriod()
    return Period(start=start, end=end)


def _as_date(value: Any) -> date:
    # PostgreSQL gives a date; SQLite's date() text is parsed by the Date type, but a driver
    # that hands back text anyway is still understood.
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def mine(ctx: Ctx, *, period: Period) -> MyAnalytics:
    db, actor, now, rules = ctx.db, ctx.actor, ctx.now, ctx.rules
    # Admins see every feedback (docs/api.md §7), so nothing is sealed for them.
    reveal_after = None if actor.is_admin else feedback_service.REVEAL_AFTER
    scope: dict[str, Any] = {
        "user_id": actor.id,
        "now": now,
        "rules": rules,
        "period": period,
    }
    totals = await repository.my_session_totals(db, **scope)
    ratings = await repository.my_ratings(db, reveal_after=reveal_after, **scope)
    categories = await repository.my_by_category(db, reveal_after=reveal_after, **scope)
    weeks = await repository.my_weekly(db, reveal_after=reveal_after, **scope)
    return MyAnalytics(
        sessions=MySessionCounts(
            completed=int(totals[SessionStatus.COMPLETED.value.lower()]),
            cancelled=int(totals[SessionStatus.CANCELLED.value.lower()]),
            live=int(totals[SessionStatus.LIVE.value.lower()]),
            scheduled=int(totals[SessionStatus.SCHEDULED.value.lower()]),
            as_interviewer=int(totals["as_interviewer"]),
            as_interviewee=int(totals["as_interviewee"]),
        ),
        minutes_practised=rounded(totals["minutes_practised"]) or 0.0,
        ratings_received=RatingsReceived(
            communication=rounded(ratings["communication"]),
            problem_solving=rounded(ratings["problem_solving"]),
            technical=rounded(ratings["technical"]),
            overall=rounded(ratings["overall"]),
            count=int(ratings["count"]),
        ),
        by_category=[
            CategoryActivity(
                category=row["category"],
                sessions=int(row["sessions"]),
                average_overall=rounded(row["average_overall"]),
            )
            for row in categories
        ],
        weekly=[
            WeeklyActivity(
                week_start=_as_date(row["week_start"]),
                sessions=int(row["sessions"]),
                average_overall=rounded(row["average_overall"]),
            )
            for row in weeks
        ],
    )


async def platform(ctx: Ctx, *, period: Period) -> PlatformAnalytics:
    db, now, rules = ctx.db, ctx.now, ctx.rules
    funnel = await repository.request_funnel(db, now=now, period=period)
    median = await repository.median_minutes_to_accept(db, period=period)
    outcomes = await repository.session_outcomes(db, now=now, rules=rules, period=period)
    ratings = await repository.ratings_by_category(db, period=period)
    active = await repository.active_users_weekly(db, period=period)
    return PlatformAnalytics(
        funnel=Funnel(**{key: int(value) for key, value in funnel.items()}),
        median_minutes_to_accept=rounded(median),
        sessions=PlatformSessionCounts(**{key: int(value) for key, value in outcomes.items()}),
        ratings_by_category=[
            CategoryRatings(
                category=row["category"],
                count=int(row["count"]),
                average_overall=rounded(row["average_overall"]),
            )
            for row in ratings
        ],
        active_users_weekly=[
            WeeklyActiveUsers(week_start=_as_date(row["week_start"]), users=int(row["users"]))
            for row in active
        ],
    )


async def sessions_by_state(
    *, db: Connection, now: datetime, rules: TimeRules
) -> dict[SessionStatus, int]:
    """How many sessions are in each state right now (read-time truth), zeros included."""
    counts = await repository.sessions_by_state(db, now=now, rules=rules)
    return {status: counts.get(status.value, 0) for status in SessionStatus}
