"""GET /metrics: Prometheus text, open in development, behind METRICS_TOKEN in production."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from peerview.analytics import service as analytics_service
from peerview.context import CheckedRoute, bearer_token, services_of
from peerview.errors import InvalidToken, NotAuthenticated, NotFound
from peerview.metrics import SESSIONS_BY_STATE
from peerview.openapi import answers
from peerview.services import Services

logger = logging.getLogger(__name__)

router = APIRouter(tags=["operations"], route_class=CheckedRoute)


def _check_access(request: Request, services: Services) -> None:
    """Open in development; in production a bearer METRICS_TOKEN, and hidden without one."""
    settings = services.settings
    if settings.peerview_env != "production":
        return
    if settings.metrics_token is None:
        raise NotFound()
    presented = bearer_token(request)
    if presented is None:
        raise NotAuthenticated()
    if not hmac.compare_digest(presented.encode(), settings.metrics_token.encode()):
        raise InvalidToken()


@router.get(
    "/metrics",
    response_class=Response,
    **answers(
        None,
        NotAuthenticated,
        InvalidToken,
        NotFound,
        description="Prometheus text format",
        content_type=CONTENT_TYPE_LATEST,
    ),
    summary="Prometheus metrics (bearer METRICS_TOKEN in production)",
)
async def metrics(request: Request) -> Response:
    services = services_of(request)
    _check_access(request, services)
    await _collect_sessions_by_state(services)
    return Response(
        generate_latest(REGISTRY),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )


async def _collect_sessions_by_state(services: Services) -> None:
    """One aggregate query at scrape time; a database outage must not hide the other metrics."""
    try:
        async with services.database.transaction(write=False) as db:
            counts = await analytics_service.sessions_by_state(
                db=db, now=services.clock.now(), rules=services.rules
            )
    except Exception:
        logger.warning("sessions-by-state not collected", exc_info=True)
        SESSIONS_BY_STATE.clear()
        return
    for state, count in counts.items():
        SESSIONS_BY_STATE.labels(state.value).set(count)
