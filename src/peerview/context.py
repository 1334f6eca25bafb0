"""The request context: who is asking, on which connection, at what instant, with which services.

Every authenticated route takes one `Ctx`, made by one dependency in one step: the bearer
token decoded, then the user and the token's revocation read in one query (roles come from
the database on every request, never from the token), the role checked (403 before any
lookup), then, for writes, the per-user write limit (429, after 401 and 403; admins have a
limit of their own).

A reader's transaction opens at its first statement after that. A writer's on PostgreSQL
opens with the token check, which locks the user's row until the end: one user's writes run
one at a time there, as every writer does on SQLite (where the check runs before the one
write lock is taken). Rules over a user's own rows (at most five OPEN requests; no two
sessions of one interviewer at once) rely on that, and it costs no statement of its own.
The one exception is an admin's change of a user (`PATCH /api/users/{id}`), which locks the
rows of every active admin, the caller's included, in one order of its own
(`users.service.admin_update`).

The request wrapper (`peerview.http.middleware`) ends what the context began, once the route
has answered and before a byte of the answer leaves: `finish` commits when the answer is a
success (and runs the after-commit hooks), rolls back otherwise, and gives the connection
back to the pool whatever happened.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from fastapi.security import OAuth2PasswordBearer
from starlette.exceptions import HTTPException
from starlette.responses import Response

from peerview import tokens
from peerview.actor import Actor
from peerview.config import Settings
from peerview.db import Connection, run_hooks
from peerview.errors import Forbidden, InvalidToken, NotAuthenticated, TooManyRequests
from peerview.events import EventBus
from peerview.interview_sessions.lifecycle import TimeRules
from peerview.logging import note_user
from peerview.models.enums import Role
from peerview.services import Services
from peerview.users import repository as users_repository

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(slots=True)
class Ctx:
    services: Services
    db: Connection
    actor: Actor
    now: datetime

    @property
    def rules(self) -> TimeRules:
        return self.services.rules

    @property
    def events(self) -> EventBus:
        return self.services.events

    @property
    def settings(self) -> Settings:
        return self.services.settings


class WriteRateLimited(TooManyRequests):
    title = "Too many writes; try again later"


async def authenticate(
    db: Connection, claims: tokens.TokenClaims, *, lock: bool = False
) -> Actor | None:
    """The active user a verified token speaks for, or None: the rules of every request.

    Revoked tokens, deactivated users and tokens issued before a password change are refused.
    With `lock`, the user's row stays locked until the transaction ends.
    """
    holder = await users_repository.token_holder(
        db, user_id=claims.subject, jti=claims.jti, lock=lock
    )
    if holder is None or holder.token_revoked or not holder.is_active:
        return None
    if holder.tokens_valid_after is not None and claims.issued_at < holder.tokens_valid_after:
        return None
    return Actor(
        id=holder.id,
        name=holder.name,
        email=holder.email,
        role=holder.role,
        is_active=holder.is_active,
        email_notifications=holder.email_notifications,
        created_at=holder.created_at,
        token=claims,
    )


def services_of(request: Request) -> Services:
    services: Services = request.app.services
    return services


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


@dataclass(slots=True)
class Unit:
    """The work of one request that outlives its route: the connection its context took.

    The request wrapper makes one per request; the context hands it its connection.
    """

    services: Services | None = None
    db: Connection | None = None


current_unit: ContextVar[Unit | None] = ContextVar("peerview_unit", default=None)


async def finish(unit: Unit, *, commit: bool) -> None:
    """End the request's transaction (commit or roll back), give its connection back, then,
    if it committed, run its after-commit hooks."""
    db, services = unit.db, unit.services
    if db is None or services is None:
        return
    unit.db = None
    hooks = []
    try:
        if commit:
            hooks = await db.commit()
    finally:
        await services.database.checkin(db)
    await run_hooks(hooks)


class Authenticated(OAuth2PasswordBearer):
    """The dependency that makes a route's `Ctx`, for the roles given (any role if none).

    An OAuth2 scheme to FastAPI, so OpenAPI marks the route as needing a bearer token.
    """

    def __init__(self, *roles: Role, lock_actor: bool = True) -> None:
        super().__init__(tokenUrl="/api/auth/token", auto_error=False)
        self.roles = frozenset(roles)
        # False for a route whose service locks the rows it needs, the caller's among them,
        # in an order of its own (an admin's change of a user, docs/api.md §3.2).
        self.lock_actor = lock_actor

    async def __call__(self, request: Request) -> Ctx:  # type: ignore[override]
        unit = current_unit.get()
        if unit is None:
            raise RuntimeError("a request context needs the request wrapper (HttpLayer)")
        services = services_of(request)
        token = bearer_token(request)
        if token is None:
            raise NotAuthenticated()
        now = services.clock.now()
        try:
            claims = tokens.decode(token, secret=services.settings.signing_secret(), now=now)
        except tokens.TokenError as exc:
            raise InvalidToken() from exc
        db = await services.database.checkout()
        # From here on the request wrapper gives it back, whatever happens.
        unit.services, unit.db = services, db
        write = request.method in WRITE_METHODS
        locking = write and self.lock_actor and not db.exclusive_writes
        if locking:
            db.begin(write=True)
        actor = await authenticate(db, claims, lock=locking)
        if actor is None:
            raise InvalidToken()
        note_user(actor.id)
        if self.roles and actor.role not in self.roles:
            raise Forbidden(f"This action is for {', '.join(sorted(self.roles))} only")
        if write:
            retry_after = await services.write_limit.check(actor.id, admin=actor.is_admin)
            if retry_after is not None:
                raise WriteRateLimited(retry_after=retry_after)
        if not locking:
            db.begin(write=write)
        return Ctx(services=services, db=db, actor=actor, now=now)


# A route's context, for the roles it is open to.
AnyUser = Annotated[Ctx, Depends(Authenticated())]
Admin = Annotated[Ctx, Depends(Authenticated(Role.ADMIN))]
Interviewer = Annotated[Ctx, Depends(Authenticated(Role.INTERVIEWER))]
Interviewee = Annotated[Ctx, Depends(Authenticated(Role.INTERVIEWEE))]
InterviewerOrAdmin = Annotated[Ctx, Depends(Authenticated(Role.INTERVIEWER, Role.ADMIN))]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authentication_of(route: APIRoute) -> Authenticated | None:
    """The route's context dependency, or None for a route anyone may call."""
    for dependency in route.dependant.dependencies:
        if isinstance(dependency.call, Authenticated):
            return dependency.call
    return None


class CheckedRoute(APIRoute):
    """The route class of every router: the order of checks (docs/api.md §1.5) holds even for a
    body that cannot be read at all.

    FastAPI reads and parses a JSON body before it runs the route's dependencies, so a body
    that is not well-formed JSON (or not UTF-8) would be answered 422 before the token is
    looked at. When that happens on a route with a context, the context is made then: 401,
    403 and 429 answer first, and a caller who passes them gets the body's 422 as before.
    Nothing changes for a body that can be parsed (FastAPI judges its shape after the
    dependencies) or one over the size limit (413). The context is still made only after the
    body is read, so a slow upload holds no pooled connection and no lock meanwhile.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        authenticator = authentication_of(self)
        if authenticator is None or self.body_field is None:
            return handler

        async def checked(request: Request) -> Response:
            try:
                return await handler(request)
            except (RequestValidationError, HTTPException) as exc:
                # 400 is FastAPI's "could not parse the body" (rendered as 422); 413 and the
                # other statuses stand as they are.
                unreadable = isinstance(exc, RequestValidationError) or exc.status_code == 400
                unit = current_unit.get()
                # No connection taken: the context was never made, so the body was refused
                # before the dependencies ran.
                if unreadable and unit is not None and unit.db is None:
                    await authenticator(request)
                raise

        return checked
