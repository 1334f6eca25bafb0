"""The analytics rollups recounted from scratch, in Python, from the rows they summarise.

`expected(rows)` is what the rollup tables (and the stored waits) must hold for the given
requests, sessions and feedback; `stored(...)` is what they hold. Both read through any
function that runs a SELECT and returns its rows as mappings, so the same recount checks an
application's database (`Connection.execute`) and one a migration just upgraded (SQLAlchemy).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, select

from peerview.analytics.buckets import bucket_of
from peerview.models import (
    AnalyticsAcceptWait,
    AnalyticsAcceptWaitDay,
    AnalyticsActivityDay,
    AnalyticsRatingDay,
    AnalyticsRequestDay,
    AnalyticsSessionDay,
    AnalyticsWeek,
    AnalyticsWeekUser,
    Feedback,
    InterviewRequest,
    InterviewSession,
)
from peerview.models.base import table_of
from tests.support.sql import execute

Fetch = Callable[[Select[Any]], Awaitable[Sequence[Mapping[str, Any]]]]

requests = table_of(InterviewRequest)
sessions = table_of(InterviewSession)
feedback = table_of(Feedback)


@dataclass
class Rows:
    requests: list[Mapping[str, Any]]
    sessions: list[Mapping[str, Any]]
    feedback: list[Mapping[str, Any]]


async def rows(fetch: Fetch) -> Rows:
    return Rows(
        requests=list(await fetch(select(requests))),
        sessions=list(await fetch(select(sessions))),
        feedback=list(await fetch(select(feedback))),
    )


def _day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def _monday(moment: datetime) -> date:
    day = _day(moment)
    return day - timedelta(days=day.weekday())


def _wait(request: Mapping[str, Any]) -> int | None:
    if request["status"] != "ACCEPTED" or request["accepted_at"] is None:
        return None
    return (request["accepted_at"] - request["created_at"]) // timedelta(microseconds=1)


def _outcome(session: Mapping[str, Any]) -> str:
    if session["status"] == "COMPLETED":
        return "auto_timeout" if session["end_reason"] == "AUTO_TIMEOUT" else "completed"
    return "no_show" if session["end_reason"] == "NO_SHOW" else "cancelled"


def expected(data: Rows) -> dict[str, Any]:
    request_days: Counter[tuple[date, str]] = Counter()
    wait_days: Counter[tuple[date, int]] = Counter()
    waits: Counter[int] = Counter()
    stored_waits = {}
    for request in data.requests:
        day = _day(request["created_at"])
        if request["status"] in ("ACCEPTED", "CANCELLED", "EXPIRED"):
            request_days[day, request["status"]] += 1
        wait = _wait(request)
        stored_waits[request["id"]] = wait
        if wait is not None:
            wait_days[day, bucket_of(wait)] += 1
            waits[bucket_of(wait)] += 1
    session_days: Counter[tuple[date, str]] = Counter()
    by_id = {s["id"]: s for s in data.sessions}
    activity = {
        (_day(r["created_at"]), _monday(r["created_at"]), r["interviewee_id"])
        for r in data.requests
    }
    for session in data.sessions:
        if session["status"] in ("COMPLETED", "CANCELLED"):
            session_days[_day(session["created_at"]), _outcome(session)] += 1
        day, week = _day(session["created_at"]), _monday(session["scheduled_at"])
        # A practice session has no interviewer (docs/api.md §13).
        people = (session["interviewer_id"], session["interviewee_id"])
        activity |= {(day, week, person) for person in people if person is not None}
    active = {(week, user) for _, week, user in activity}
    rating_days: Counter[tuple[date, str]] = Counter()
    overall: Counter[tuple[date, str]] = Counter()
    for row in data.feedback:
        session = by_id[row["session_id"]]
        key = (_day(session["created_at"]), session["category"])
        rating_days[key] += 1
        overall[key] += row["overall"]
    return {
        "accept_wait_us": stored_waits,
        "analytics_request_days": dict(request_days),
        "analytics_accept_wait_days": dict(wait_days),
        "analytics_accept_waits": dict(waits),
        "analytics_session_days": dict(session_days),
        "analytics_rating_days": {key: (n, overall[key]) for key, n in rating_days.items()},
        "analytics_activity_days": sorted(activity),
        "analytics_week_users": sorted(active),
        "analytics_weeks": dict(Counter(week for week, _ in active)),
    }


async def stored(fetch: Fetch, data: Rows) -> dict[str, Any]:
    def keyed(found: Sequence[Mapping[str, Any]], *keys: str, values: tuple[str, ...]) -> Any:
        out = {}
        for row in found:
            key = tuple(_date(row[k]) for k in keys)
            value = tuple(int(row[v]) for v in values)
            out[key[0] if len(key) == 1 else key] = value[0] if len(value) == 1 else value
        return out

    request_days = await fetch(select(table_of(AnalyticsRequestDay)))
    wait_days = await fetch(select(table_of(AnalyticsAcceptWaitDay)))
    waits = await fetch(select(table_of(AnalyticsAcceptWait)))
    session_days = await fetch(select(table_of(AnalyticsSessionDay)))
    rating_days = await fetch(select(table_of(AnalyticsRatingDay)))
    activity_days = await fetch(select(table_of(AnalyticsActivityDay)))
    week_users = await fetch(select(table_of(AnalyticsWeekUser)))
    weeks = await fetch(select(table_of(AnalyticsWeek)))
    return {
        "accept_wait_us": {r["id"]: r["accept_wait_us"] for r in data.requests},
        "analytics_request_days": keyed(request_days, "day", "status", values=("requests",)),
        "analytics_accept_wait_days": keyed(wait_days, "day", "bucket", values=("requests",)),
        "analytics_accept_waits": keyed(waits, "bucket", values=("requests",)),
        "analytics_session_days": keyed(session_days, "day", "outcome", values=("sessions",)),
        "analytics_rating_days": keyed(
            rating_days, "day", "category", values=("feedback", "overall_sum")
        ),
        "analytics_activity_days": sorted(
            (_date(r["day"]), _date(r["week_start"]), r["user_id"]) for r in activity_days
        ),
        "analytics_week_users": sorted((_date(r["week_start"]), r["user_id"]) for r in week_users),
        "analytics_weeks": keyed(weeks, "week_start", values=("users",)),
    }


def _date(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 10 and value[4] == "-":
        return date.fromisoformat(value)
    return value


def connection_fetch(db: Any) -> Fetch:
    """A `Fetch` over an application `Connection`."""

    async def fetch(query: Select[Any]) -> Sequence[Mapping[str, Any]]:
        return (await execute(db, query)).mappings().all()  # type: ignore[no-any-return]

    return fetch


async def check(db: Any) -> None:
    """The rollups on `db` are exactly the recount of its rows."""
    fetch = connection_fetch(db)
    data = await rows(fetch)
    found, wanted = await stored(fetch, data), expected(data)
    for name in wanted:
        assert found[name] == wanted[name], name
