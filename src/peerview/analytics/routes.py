"""HTTP routes of /api/analytics."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime
from starlette.responses import Response

from peerview.analytics import service
from peerview.analytics.errors import InvalidPeriod
from peerview.analytics.schemas import MyAnalytics, PlatformAnalytics
from peerview.context import Admin, AnyUser, CheckedRoute
from peerview.openapi import answers
from peerview.schemas import respond

router = APIRouter(prefix="/api/analytics", tags=["analytics"], route_class=CheckedRoute)

From = Annotated[
    AwareDatetime | None,
    Query(alias="from", description="Only what was created at or after this instant."),
]
To = Annotated[
    AwareDatetime | None, Query(description="Only what was created before this instant.")
]


@router.get(
    "/me",
    **answers(MyAnalytics, InvalidPeriod),
    summary="My sessions, practice time and the ratings I received",
    description=(
        "Counts follow each session's status at read time. Ratings count only feedback "
        "you may already see (double-blind, docs/api.md §7). `from`/`to` filter on the session's "
        "`created_at`. Averages are rounded half-up to 2 decimals and null when empty."
    ),
)
async def my_analytics(ctx: AnyUser, from_: From = None, to: To = None) -> Response:
    return respond(await service.mine(ctx, period=service.period_of(from_, to)))


@router.get(
    "/platform",
    **answers(PlatformAnalytics, InvalidPeriod),
    summary="The request funnel, session outcomes, ratings and weekly activity (admin)",
    description=(
        "`from`/`to` filter requests on the request's `created_at` and sessions (and their "
        "feedback) on the session's `created_at`. Averages and the median are rounded "
        "half-up to 2 decimals and null when empty."
    ),
)
async def platform_analytics(ctx: Admin, from_: From = None, to: To = None) -> Response:
    return respond(await service.platform(ctx, period=service.period_of(from_, to)))
