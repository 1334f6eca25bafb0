"""The application factory: the services, the routers, the error handlers, one middleware layer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import FastAPI

from peerview import __version__, openapi
from peerview.analytics import rollups as analytics_rollups
from peerview.analytics.routes import router as analytics_router
from peerview.auth.login_throttle import AttemptStore, LoginThrottle, RedisAttemptStore
from peerview.auth.passwords import PasswordService
from peerview.auth.routes import router as auth_router
from peerview.auth.throttle import FailureStore, RedisFailureStore, WriteRateLimit
from peerview.clock import Clock, SystemClock
from peerview.codepad.routes import router as codepad_router
from peerview.config import Settings, get_settings
from peerview.db import create_database
from peerview.errors import install_error_handlers
from peerview.events import EventBus
from peerview.feedback.routes import router as feedback_router
from peerview.http.health import router as health_router
from peerview.http.metrics import router as metrics_router
from peerview.http.middleware import HttpLayer, ProblemCORSMiddleware
from peerview.interview_requests.routes import router as requests_router
from peerview.interview_sessions.lifecycle import time_rules
from peerview.interview_sessions.question_routes import router as session_questions_router
from peerview.interview_sessions.routes import router as sessions_router
from peerview.jobs import sweeper
from peerview.notifications.mailer import Mailer
from peerview.notifications.notifier import Notifier
from peerview.notifications.routes import router as notifications_router
from peerview.practice.interviewer import Interviewer
from peerview.practice.routes import router as practice_router
from peerview.proxies import TrustedProxies
from peerview.questions.routes import router as questions_router
from peerview.realtime.server import Realtime
from peerview.services import Services
from peerview.setup.routes import router as setup_router
from peerview.users.routes import router as users_router
from peerview.web import install as install_web_app

DESCRIPTION = """
Peerview is the backend of a peer-to-peer mock interview platform: interviewees post
interview requests, interviewers accept them, and the two meet in a live session.

Every error is an RFC 9457 problem document with a stable `code`. Authenticate with
`Authorization: Bearer <access_token>` (the **Authorize** button logs in through
`/api/auth/token`, with your e-mail as the username).
"""

logger = logging.getLogger(__name__)


class PeerviewApp(FastAPI):
    """The FastAPI application, carrying the services its requests use."""

    services: Services


def build_services(settings: Settings, clock: Clock) -> Services:
    """Everything the application runs on, made once and wired together."""
    database = create_database(settings)
    events = EventBus()
    redis = None
    store: AttemptStore | None = None
    write_store: FailureStore | None = None
    if settings.redis_url:
        from redis.asyncio import Redis

        redis = Redis.from_url(settings.redis_url, socket_timeout=1, socket_connect_timeout=1)
        store = RedisAttemptStore(redis)
        write_store = RedisFailureStore(redis, prefix="peerview:writes:")
    realtime = Realtime(settings=settings, clock=clock, database=database, redis=redis)
    mailer = Mailer(database=database, clock=clock, settings=settings)
    notifier = Notifier(settings=settings, mailer=mailer, push=realtime.push_notification)
    # Stored notifications and the analytics rollups commit or roll back with the change;
    # pushes follow the commit, as does the realtime relay's invalidation (in this process
    # and, with Redis, in the others).
    events.subscribe(in_transaction=notifier.on_events)
    events.subscribe(in_transaction=analytics_rollups.on_events)
    events.subscribe(after_commit=realtime.after_commit)
    interviewer = Interviewer(
        settings=settings, database=database, clock=clock, push=realtime.push_to_user
    )
    # The AI interviewer closes and grades a practice session once its end has committed.
    events.subscribe(after_commit=interviewer.after_commit)
    realtime.practice = interviewer
    services = Services(
        settings=settings,
        clock=clock,
        database=database,
        events=events,
        rules=time_rules(settings),
        passwords=PasswordService(settings),
        login_throttle=LoginThrottle(
            clock=clock,
            window=timedelta(minutes=settings.login_window_minutes),
            max_per_account=settings.login_max_failures_per_account,
            max_per_address=settings.login_max_failures_per_address,
            store=store,
        ),
        write_limit=WriteRateLimit(
            clock=clock,
            per_minute=settings.write_rate_limit_per_minute,
            admin_per_minute=settings.write_rate_limit_admin_per_minute,
            store=write_store,
        ),
        redis=redis,
        notifier=notifier,
        mailer=mailer,
        realtime=realtime,
        practice=interviewer,
    )
    realtime.serve(services)
    return services


async def close_services(services: Services) -> None:
    """Give back what `build_services` took: threads, sockets, connections."""
    services.passwords.close()
    await services.practice.stop()
    await services.realtime.close()
    if services.redis is not None:
        await services.redis.aclose()
    await services.database.close()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    services: Services = app.services  # type: ignore[attr-defined]
    job: asyncio.Task[None] | None = None
    if services.settings.sweeper_enabled:
        job = asyncio.create_task(sweeper.run_forever(services), name="peerview-sweeper")
    services.mailer.start()
    services.practice.start()
    yield
    await services.mailer.stop()
    if job is not None:
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job
    await close_services(services)
    logger.info("stopped: sweeper and mailer stopped, connections closed")


def create_app(settings: Settings | None = None, clock: Clock | None = None) -> PeerviewApp:
    settings = settings or get_settings()
    clock = clock or SystemClock()
    settings.signing_secret()  # fail (or create the development key) at start, not on first login

    docs = settings.docs_enabled
    app = PeerviewApp(
        title="Peerview",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if docs else None,
        redoc_url="/redoc" if docs else None,
        openapi_url="/openapi.json" if docs else None,
    )
    app.services = build_services(settings, clock)
    install_error_handlers(app)
    openapi.install(app)
    # Matched in this order, one route after the other: the busiest first.
    for router in (
        requests_router,
        sessions_router,
        session_questions_router,
        codepad_router,
        practice_router,
        auth_router,
        users_router,
        questions_router,
        feedback_router,
        notifications_router,
        analytics_router,
        setup_router,
        health_router,
        metrics_router,
    ):
        app.include_router(router)
    install_web_app(app)
    if settings.cors_origin_list:
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["Retry-After", "X-Request-ID"],
            max_age=600,
        )
    # Outermost of ours: it times the whole request and gives every answer its headers.
    app.add_middleware(HttpLayer, trusted_proxies=TrustedProxies(settings.trusted_proxy_networks))
    return app
