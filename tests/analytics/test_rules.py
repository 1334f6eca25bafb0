"""Analytics rules: who may ask, what the inputs must be, the median and the rounding."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import literal, select, text

from peerview.analytics import repository
from peerview.analytics.service import rounded
from peerview.models.base import UTCDateTime
from peerview.models.enums import Role
from tests.analytics.support import Driver, at
from tests.factories import Factory
from tests.flow import completed
from tests.platform.apps import assert_problem
from tests.support.sql import execute

PLATFORM = "/api/analytics/platform"
ME = "/api/analytics/me"


async def test_analytics_need_authentication(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get(ME), 401, "NOT_AUTHENTICATED")
    assert_problem(await client.get(PLATFORM), 401, "NOT_AUTHENTICATED")


@pytest.mark.parametrize("role", [Role.INTERVIEWER, Role.INTERVIEWEE])
async def test_platform_analytics_are_for_admins_only(factory: Factory, role: Role) -> None:
    user = await factory.user(role)
    response = await factory.client.get(PLATFORM, headers=user.headers)
    assert_problem(response, 403, "FORBIDDEN")


async def test_role_is_checked_before_the_input(factory: Factory) -> None:
    user = await factory.interviewer()
    response = await factory.client.get(
        PLATFORM, params={"from": "2030-01-01T00:00:00"}, headers=user.headers
    )
    assert_problem(response, 403, "FORBIDDEN")


@pytest.mark.parametrize("path", [ME, PLATFORM])
@pytest.mark.parametrize("name", ["from", "to"])
async def test_a_period_bound_without_offset_is_422(factory: Factory, path: str, name: str) -> None:
    admin = await factory.admin()
    response = await factory.client.get(
        path, params={name: "2030-01-07T09:00:00"}, headers=admin.headers
    )
    body = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in body["errors"]] == [name]


@pytest.mark.parametrize("path", [ME, PLATFORM])
async def test_a_period_ending_before_it_starts_is_422(factory: Factory, path: str) -> None:
    admin = await factory.admin()
    params = {"from": at(8, 9).isoformat(), "to": at(7, 9).isoformat()}
    response = await factory.client.get(path, params=params, headers=admin.headers)
    assert_problem(response, 422, "INVALID_PERIOD")


async def test_the_platform_of_an_empty_database_is_zeros_and_nulls(factory: Factory) -> None:
    admin = await factory.admin()
    assert await Driver(factory).get(admin, PLATFORM) == {
        "funnel": {"created": 0, "accepted": 0, "expired": 0, "cancelled": 0, "open": 0},
        "median_minutes_to_accept": None,
        "sessions": {
            "completed": 0,
            "auto_timeout": 0,
            "no_show": 0,
            "cancelled": 0,
            "live": 0,
            "scheduled": 0,
        },
        "ratings_by_category": [],
        "active_users_weekly": [],
        "sessions_weekly": [],
    }


async def test_median_minutes_to_accept_of_an_even_count_is_the_mean_of_the_middle_two(
    factory: Factory,
) -> None:
    admin, interviewer = await factory.admin(), await factory.interviewer()
    interviewee = await factory.interviewee()
    drive = Driver(factory)
    t0 = at(7, 9)
    # Request i is created at t0 + i minutes and accepted `wait` minutes later.
    waits = [7, 12.5, 40, 3]  # sorted 3, 7, 12.5, 40 → (7 + 12.5) / 2
    ids = [
        await drive.request(
            t0 + timedelta(minutes=i), interviewee, scheduled_at=at(10 + i, 9), category="arrays"
        )
        for i in range(len(waits))
    ]
    accepts = sorted(
        (i + wait, request_id) for i, (request_id, wait) in enumerate(zip(ids, waits, strict=True))
    )
    for minute, request_id in accepts:
        await drive.accept(t0 + timedelta(minutes=minute), interviewer, request_id)
    body = await drive.get(admin, PLATFORM)
    assert body["median_minutes_to_accept"] == 9.75
    # Only the first three requests (7, 12.5, 40): the middle one.
    body = await drive.get(admin, PLATFORM, to=(t0 + timedelta(minutes=2, seconds=30)).isoformat())
    assert body["median_minutes_to_accept"] == 12.5
    await drive.request(t0 + timedelta(hours=2), interviewee, scheduled_at=at(20, 9), category="x")
    body = await drive.get(admin, PLATFORM)
    assert body["median_minutes_to_accept"] == 9.75, "an open request has no acceptance time"


async def test_median_minutes_to_accept_of_an_odd_count_is_the_middle_value(
    factory: Factory,
) -> None:
    admin, interviewer = await factory.admin(), await factory.interviewer()
    interviewee = await factory.interviewee()
    drive = Driver(factory)
    t0 = at(7, 9)
    for i, wait in enumerate([1, 30, 2]):
        request_id = await drive.request(
            t0 + timedelta(minutes=i), interviewee, scheduled_at=at(10 + i, 9), category="arrays"
        )
        await drive.accept(t0 + timedelta(minutes=i + wait), interviewer, request_id)
    assert (await drive.get(admin, PLATFORM))["median_minutes_to_accept"] == 2.0


def test_averages_are_rounded_half_up_to_two_decimals() -> None:
    assert rounded(None) is None
    assert rounded(2.125) == 2.13  # round() would give 2.12
    assert rounded(Decimal("2.1250000000000000")) == 2.13  # PostgreSQL's exact AVG
    assert rounded(11 / 3) == 3.67
    assert rounded(Decimal("3.6666666666666667")) == 3.67
    assert rounded(4) == 4.0


@pytest.mark.parametrize(
    ("moment", "monday"),
    [
        (at(7, 0), date(2030, 1, 7)),  # a Monday at midnight is its own week
        (at(13, 23, 59), date(2030, 1, 7)),  # the Sunday ends the ISO week
        (at(14, 0), date(2030, 1, 14)),
        (at(9, 12), date(2030, 1, 7)),
        (datetime.fromisoformat("2030-01-01T00:30:00+00:00"), date(2029, 12, 31)),
    ],
)
async def test_week_start_is_the_iso_monday_in_utc(
    app: FastAPI, moment: datetime, monday: date
) -> None:
    async with app.services.database.transaction() as db:
        if db.dialect == "postgresql":
            # The week must not depend on the connection's time zone.
            await execute(db, text("SET LOCAL TIME ZONE 'Pacific/Kiritimati'"))
        value = literal(moment, UTCDateTime())
        result = await execute(db, select(repository.week_start(db, value)))
        assert result.scalar_one() == monday


async def test_minutes_between_is_exact_to_the_second(app: FastAPI) -> None:
    earlier = at(7, 9)
    later = earlier + timedelta(hours=25, minutes=1, seconds=30)
    async with app.services.database.transaction(write=False) as db:
        query = select(
            repository.minutes_between(
                db, literal(later, UTCDateTime()), literal(earlier, UTCDateTime())
            )
        )
        assert rounded((await execute(db, query)).scalar_one()) == 1501.5


async def test_admins_count_received_feedback_that_is_still_sealed_for_others(
    factory: Factory,
) -> None:
    flow = await completed(factory)
    admin = await factory.admin()
    await Driver(factory).feedback(factory.clock.now(), flow.interviewee, flow.id, (5, 4, 3, 2))
    me = await Driver(factory).get(flow.interviewer, ME)
    assert me["ratings_received"]["count"] == 0
    promoted = await factory.client.patch(
        f"/api/users/{flow.interviewer.id}", json={"role": "ADMIN"}, headers=admin.headers
    )
    assert promoted.status_code == 200, promoted.text
    me = await Driver(factory).get(flow.interviewer, ME)
    assert me["ratings_received"] == {
        "communication": 5.0,
        "problem_solving": 4.0,
        "technical": 3.0,
        "overall": 2.0,
        "count": 1,
    }


async def test_period_bounds_in_any_offset_mean_the_same_instant(factory: Factory) -> None:
    admin, interviewee = await factory.admin(), await factory.interviewee()
    drive = Driver(factory)
    await drive.request(at(7, 9), interviewee, scheduled_at=at(10, 9), category="arrays")
    utc = await drive.get(admin, PLATFORM, **{"from": "2030-01-07T09:00:00Z"})
    shifted = await drive.get(admin, PLATFORM, **{"from": "2030-01-07T11:00:00+02:00"})
    later = await drive.get(admin, PLATFORM, **{"from": "2030-01-07T09:00:01+00:00"})
    assert utc["funnel"]["created"] == shifted["funnel"]["created"] == 1
    assert later["funnel"]["created"] == 0
