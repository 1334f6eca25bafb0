"""HTTP routes of /api/analytics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from peerview.analytics import service
from peerview.analytics.errors import InvalidPeriod
from peerview.analytics.schemas import MyAnalytics, PlatformAnalytics
from peerview.deps import DB, AdminUser, ClockDep, CurrentUser, SettingsDep
from peerview.errors import Forbidden, InvalidToken, NotAuthenticated, problem_schema
from peerview.interview_sessions import service as sessions_service

router = APIRouter(prefix="/api/analytics", tags=["analytics"])

AUTH = (NotAuthenticated, InvalidToken)

From = Annotated[
    AwareDatetime | None,
    Query(alias="from", description="Only what was created at or after this instant."),
]
To = Annotated[
    AwareDatetime | None, Query(description="Only what was created before this instant.")
]


@router.get(
    "/me",
    response_model=MyAnalytics,
    responses=problem_schema(*AUTH, InvalidPeriod),
    summary="My sessions, practice time and the ratings I received",
    description=(
        "Counts follow each session's status at read time. Ratings count only feedback "
        "you may already see (double-blind, SPEC §7). `from`/`to` filter on the session's "
        "`created_at`. Averages are rounded half-up to 2 decimals and null when empty."
    ),
)
async def my_analytics(
    actor: CurrentUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    from_: From = None,
    to: To = None,
) -> MyAnalytics:
    return await service.mine(
        db=db,
        actor=actor,
        now=clock.now(),
        rules=sessions_service.time_rules(settings),
        period=service.period_of(from_, to),
    )


@router.get(
    "/platform",
    response_model=PlatformAnalytics,
    responses=problem_schema(*AUTH, Forbidden, InvalidPeriod),
    summary="The request funnel, session outcomes, ratings and weekly activity (admin)",
    description=(
        "`from`/`to` filter requests on the request's `created_at` and sessions (and their "
        "feedback) on the session's `created_at`. Averages and the median are rounded "
        "half-up to 2 decimals and null when empty."
    ),
)
async def platform_analytics(
    _: AdminUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    from_: From = None,
    to: To = None,
) -> PlatformAnalytics:
    return await service.platform(
        db=db,
        now=clock.now(),
        rules=sessions_service.time_rules(settings),
        period=service.period_of(from_, to),
    )
