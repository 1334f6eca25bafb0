"""Observability: request ids, the JSON access log, Prometheus metrics at /metrics, log setup."""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peerview.clock import Clock
from peerview.config import Settings
from peerview.errors import InvalidToken, NotAuthenticated, NotFound, problem_schema
from peerview.metrics import (
    HTTP_LATENCY,
    HTTP_REQUESTS,
    SESSIONS_BY_STATE,
    SWEEPER_ERRORS,
    SWEEPER_RUNS,
    SWEEPER_TRANSITIONS,
)

if TYPE_CHECKING:
    from peerview.interview_sessions.sweeper import SweepResult

# This module imports nothing that imports the features or deps.py, so that the auth
# dependency and errors.py can both reach the request context without an import cycle;
# what /metrics needs from the features is imported when it is scraped.

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("peerview.access")

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_HEADER_RAW = REQUEST_ID_HEADER.lower().encode()
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# Anything else would let one client mint unbounded label values.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"


# --- the request's identity -----------------------------------------------------------------


@dataclass(slots=True)
class RequestInfo:
    """What the access log needs to know about the request being served.

    Mutable on purpose: a dependency run in a copied context (a thread, a task) still
    reaches the same object through the context variable.
    """

    request_id: str
    user_id: str | None = None


_current: ContextVar[RequestInfo | None] = ContextVar("peerview_request", default=None)


def current_request_id() -> str | None:
    """The id of the request being served, or None outside a request."""
    info = _current.get()
    return info.request_id if info is not None else None


def note_user(user_id: str) -> None:
    """Name the authenticated caller of the current request in its access-log line."""
    info = _current.get()
    if info is not None:
        info.user_id = user_id


def _request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == _REQUEST_ID_HEADER_RAW:
            candidate = value.decode("latin-1")
            if _VALID_REQUEST_ID.fullmatch(candidate):
                return candidate
            break
    return uuid.uuid4().hex


def route_template(scope: Scope) -> str:
    """The matched route's path template (never the raw path, which may carry ids)."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    return template if isinstance(template, str) and template else UNMATCHED


# --- the middleware ---------------------------------------------------------------------------


class ObservabilityMiddleware:
    """Request id in and out, one access-log line and the HTTP metrics for every request.

    Pure ASGI (no BaseHTTPMiddleware): it wraps `send` and never touches the body.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        info = RequestInfo(request_id=_request_id_from(scope["headers"]))
        token = _current.set(info)
        header = (_REQUEST_ID_HEADER_RAW, info.request_id.encode())
        status: int | None = None
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", []))
                if all(name.lower() != _REQUEST_ID_HEADER_RAW for name, _ in headers):
                    headers.append(header)
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except BaseException:
            # The outermost error handler still renders the 500 after this; it reads the
            # request id from the context, so the variable is deliberately left set (each
            # request runs in its own task, so nothing leaks to the next one).
            self._record(scope, info, status or 500, started)
            raise
        self._record(scope, info, status or 500, started)
        _current.reset(token)

    @staticmethod
    def _record(scope: Scope, info: RequestInfo, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        method = scope["method"] if scope["method"] in _KNOWN_METHODS else "OTHER"
        route = route_template(scope)
        HTTP_REQUESTS.labels(method, route, str(status)).inc()
        HTTP_LATENCY.labels(method, route).observe(elapsed)
        # Only these fields: never the query string, headers or body, which may hold
        # tokens, passwords or e-mail addresses.
        access_logger.info(
            "%s %s %d",
            method,
            route,
            status,
            extra={
                "method": method,
                "route": route,
                "status": status,
                "duration_ms": round(elapsed * 1000, 3),
                "request_id": info.request_id,
                "user_id": info.user_id,
            },
        )


# --- /metrics -------------------------------------------------------------------------------

metrics_router = APIRouter(tags=["operations"])


def _check_metrics_access(request: Request, settings: Settings) -> None:
    """Open in development; in production a bearer METRICS_TOKEN, and hidden without one."""
    if settings.peerview_env != "production":
        return
    if settings.metrics_token is None:
        raise NotFound()
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not presented:
        raise NotAuthenticated()
    if not hmac.compare_digest(presented.strip().encode(), settings.metrics_token.encode()):
        raise InvalidToken()


@metrics_router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"},
        **problem_schema(NotAuthenticated, InvalidToken, NotFound),
    },
    summary="Prometheus metrics (bearer METRICS_TOKEN in production)",
)
async def metrics(request: Request) -> Response:
    settings: Settings = request.app.state.settings
    clock: Clock = request.app.state.clock
    _check_metrics_access(request, settings)
    await _collect_sessions_by_state(request, clock.now(), settings)
    return Response(
        generate_latest(REGISTRY),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )


async def _collect_sessions_by_state(request: Request, now: datetime, settings: Settings) -> None:
    """One aggregate query at scrape time; a database outage must not hide the other metrics."""
    from peerview.analytics import service as analytics_service
    from peerview.interview_sessions import service as sessions_service

    try:
        async with request.app.state.database.transaction(write=False) as db:
            counts = await analytics_service.sessions_by_state(
                db=db, now=now, rules=sessions_service.time_rules(settings)
            )
    except Exception:
        logger.warning("sessions-by-state not collected", exc_info=True)
        SESSIONS_BY_STATE.clear()
        return
    for state, count in counts.items():
        SESSIONS_BY_STATE.labels(state.value).set(count)


# --- the sweeper's figures ---------------------------------------------------------------------


def record_sweep(result: SweepResult) -> None:
    SWEEPER_RUNS.inc()
    SWEEPER_TRANSITIONS.labels("request_expired").inc(len(result.expired_requests))
    SWEEPER_TRANSITIONS.labels("auto_timeout").inc(len(result.auto_timed_out))
    SWEEPER_TRANSITIONS.labels("no_show").inc(len(result.no_shows))


def record_sweep_error(_: BaseException) -> None:
    SWEEPER_RUNS.inc()
    SWEEPER_ERRORS.inc()


# --- logging ----------------------------------------------------------------------------------

_EXTRA_FIELDS = ("method", "route", "status", "duration_ms", "user_id")
# Defence in depth for free-text messages (exceptions especially): nothing below is ever
# logged on purpose, but a library's message might quote it.
_REDACTIONS = (
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), "[token]"),
    (re.compile(r"(?i)\bbearer\s+\S+"), "Bearer [token]"),
    (re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+"), "[email]"),
    (re.compile(r"(?i)(\"?password\"?\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|\S+)"), r"\1[redacted]"),
)


def redact(text: str) -> str:
    for pattern, replacement in _REDACTIONS:
        text = pattern.sub(replacement, text)
    return text


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request id and access fields."""

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or current_request_id()
        if request_id is not None:
            payload["request_id"] = request_id
        for name in _EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                payload[name] = value
        if record.exc_info:
            payload["exception"] = redact(self.formatException(record.exc_info))
        elif record.exc_text:
            payload["exception"] = redact(record.exc_text)
        return json.dumps(payload, default=str)


def logging_config(level: str) -> dict[str, Any]:
    """A `logging.config.dictConfig` dict: JSON lines on stderr for every logger.

    Uvicorn's own access log is silenced; `peerview.access` replaces it without the query
    string (where tokens could travel).
    """
    level = level.upper()
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": {"()": f"{__name__}.JsonFormatter"}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "formatter": "json",
                "stream": "ext://sys.stderr",
            }
        },
        "root": {"handlers": ["stderr"], "level": level},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": level},
            "uvicorn.access": {"handlers": [], "propagate": False, "level": "WARNING"},
        },
    }
