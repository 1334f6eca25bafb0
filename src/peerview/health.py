"""GET /api/health: liveness plus a database round trip."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from peerview.deps import ClockDep
from peerview.errors import ProblemDetails, problem
from peerview.schemas import OutputModel

router = APIRouter(tags=["health"])


class HealthRead(OutputModel):
    status: str
    time: datetime
    database: str


@router.get(
    "/api/health",
    response_model=HealthRead,
    responses={503: {"model": ProblemDetails, "description": "`DATABASE_UNAVAILABLE`"}},
    summary="Service and database health",
)
async def health(request: Request, clock: ClockDep) -> HealthRead | JSONResponse:
    now = clock.now()
    if not await request.app.state.database.ping():
        return problem(
            503,
            "DATABASE_UNAVAILABLE",
            "The database is unreachable",
            "The database did not answer.",
            time=now.isoformat(),
            database="unreachable",
            headers={"Retry-After": "5"},
        )
    return HealthRead(status="ok", time=now, database="ok")
