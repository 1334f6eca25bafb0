"""The application factory: routers, error handlers, middleware and background work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

from fastapi import FastAPI

from peerview import __version__
from peerview.analytics.routes import router as analytics_router
from peerview.auth.passwords import PasswordService
from peerview.auth.routes import router as auth_router
from peerview.auth.throttle import (
    FailureStore,
    LoginThrottle,
    RedisFailureStore,
    WriteRateLimit,
)
from peerview.clock import Clock, SystemClock
from peerview.config import Settings, get_settings
from peerview.db import create_database
from peerview.deps import WRITE_METHODS, WriteRateLimited
from peerview.errors import document_problems, install_error_handlers
from peerview.events import EventBus
from peerview.feedback.routes import router as feedback_router
from peerview.health import router as health_router
from peerview.interview_requests.routes import router as requests_router
from peerview.interview_sessions.question_routes import router as session_questions_router
from peerview.interview_sessions.routes import router as sessions_router
from peerview.interview_sessions.sweeper import run_forever
from peerview.middleware import (
    BodyLimitMiddleware,
    ProblemCORSMiddleware,
    SecurityHeadersMiddleware,
)
from peerview.notifications import service as notifications_service
from peerview.notifications.routes import router as notifications_router
from peerview.observability import (
    ObservabilityMiddleware,
    metrics_router,
    record_sweep,
    record_sweep_error,
)
from peerview.questions.routes import router as questions_router
from peerview.realtime import server as realtime_server
from peerview.users.routes import router as users_router

logger = logging.getLogger(__name__)

DESCRIPTION = """
Peerview is the backend of a peer-to-peer mock interview platform: interviewees post
interview requests, interviewers accept them, and the two meet in a live session.

Every error is an RFC 9457 problem document with a stable `code`. Authenticate with
`Authorization: Bearer <access_token>` (the **Authorize** button logs in through
`/api/auth/token`, with your e-mail as the username).
"""


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    sweeper: asyncio.Task[None] | None = None
    if settings.sweeper_enabled:
        sweeper = asyncio.create_task(
            run_forever(
                database=app.state.database,
                clock=app.state.clock,
                settings=settings,
                events=app.state.events,
                on_result=record_sweep,
                on_error=record_sweep_error,
            ),
            name="peerview-sweeper",
        )
    app.state.mailer.start()
    yield
    await app.state.mailer.stop()
    if sweeper is not None:
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
    app.state.passwords.close()
    if app.state.redis is not None:
        await app.state.redis.aclose()
    await app.state.database.close()


def _document_write_limit(app: FastAPI) -> None:
    """Every authenticated write under /api may answer 429 (see `deps.current_actor`).

    Installed before `document_problems`, which gives the entry its problem+json schema.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        code = f"`{WriteRateLimited.code}`"
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                if not (
                    path.startswith("/api/")
                    and method.upper() in WRITE_METHODS
                    and operation.get("security")
                ):
                    continue
                response = operation.setdefault("responses", {}).setdefault(
                    "429", {"description": ""}
                )
                if code not in response["description"]:
                    codes = [response["description"], code]
                    response["description"] = ", ".join(filter(None, codes))
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    clock = clock or SystemClock()
    settings.signing_secret()  # fail (or create the development key) at start, not on first login

    docs = settings.docs_enabled
    app = FastAPI(
        title="Peerview",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.database = create_database(settings)
    app.state.events = EventBus()
    app.state.passwords = PasswordService(settings)
    app.state.redis = None
    store: FailureStore | None = None
    write_store: FailureStore | None = None
    if settings.redis_url:
        from redis.asyncio import Redis

        app.state.redis = Redis.from_url(
            settings.redis_url, socket_timeout=1, socket_connect_timeout=1
        )
        store = RedisFailureStore(app.state.redis)
        write_store = RedisFailureStore(app.state.redis, prefix="peerview:writes:")
    app.state.login_throttle = LoginThrottle(
        clock=clock,
        window=timedelta(minutes=settings.login_window_minutes),
        max_per_account=settings.login_max_failures_per_account,
        max_per_address=settings.login_max_failures_per_address,
        store=store,
    )
    app.state.write_limit = WriteRateLimit(
        clock=clock, per_minute=settings.write_rate_limit_per_minute, store=write_store
    )

    # Socket.IO (served in front of this app by peerview.asgi) and the notifications that
    # react to domain events: both subscribe to app.state.events.
    realtime_server.install(app)
    notifications_service.install(app)

    install_error_handlers(app)
    _document_write_limit(app)
    document_problems(app)
    for router in (
        health_router,
        auth_router,
        users_router,
        questions_router,
        requests_router,
        sessions_router,
        session_questions_router,
        feedback_router,
        notifications_router,
        analytics_router,
        metrics_router,
    ):
        app.include_router(router)

    if settings.cors_origin_list:
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["Retry-After", "X-Request-ID"],
            max_age=600,
        )
    app.add_middleware(BodyLimitMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    # Outermost of ours: it times the whole request and gives every response its request id.
    app.add_middleware(ObservabilityMiddleware)
    return app
