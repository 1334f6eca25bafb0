"""GET /api/health: liveness plus a database round trip."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from peerview.context import CheckedRoute, services_of
from peerview.errors import ServiceUnavailable, problem
from peerview.openapi import answers
from peerview.schemas import Output, respond

router = APIRouter(tags=["health"], route_class=CheckedRoute)


class DatabaseUnavailable(ServiceUnavailable):
    code = "DATABASE_UNAVAILABLE"
    title = "The database is unreachable"


class HealthRead(Output):
    status: str
    time: datetime
    database: str


@router.get(
    "/api/health",
    **answers(HealthRead, DatabaseUnavailable),
    summary="Service and database health",
)
async def health(request: Request) -> Response:
    services = services_of(request)
    now = services.clock.now()
    if not await services.database.ping():
        return problem(
            DatabaseUnavailable.status,
            DatabaseUnavailable.code,
            DatabaseUnavailable.title,
            "The database did not answer.",
            time=now.isoformat(),
            database="unreachable",
            headers={"Retry-After": "5"},
        )
    return respond(HealthRead(status="ok", time=now, database="ok"))
