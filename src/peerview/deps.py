"""FastAPI dependencies shared by every feature: database, clock, settings, the caller."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from peerview.actor import Actor
from peerview.auth import tokens
from peerview.clock import Clock
from peerview.config import Settings
from peerview.db import Connection
from peerview.errors import Forbidden, InvalidToken, NotAuthenticated, TooManyRequests
from peerview.events import EventBus
from peerview.models.enums import Role
from peerview.observability import note_user
from peerview.users import service as users_service


async def get_db(request: Request) -> AsyncIterator[Connection]:
    """The request's one transaction, committed before the response is sent."""
    write = request.method not in ("GET", "HEAD", "OPTIONS")
    async with request.app.state.database.transaction(write=write) as db:
        yield db


async def get_clock(request: Request) -> Clock:
    clock: Clock = request.app.state.clock
    return clock


async def get_events(request: Request) -> EventBus:
    events: EventBus = request.app.state.events
    return events


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


DB = Annotated[Connection, Depends(get_db, scope="function")]
ClockDep = Annotated[Clock, Depends(get_clock)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
EventsDep = Annotated[EventBus, Depends(get_events)]

_bearer = OAuth2PasswordBearer(tokenUrl="/api/auth/token", auto_error=False)


WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class WriteRateLimited(TooManyRequests):
    title = "Too many writes; try again later"


async def current_actor(
    request: Request,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(_bearer)],
) -> Actor:
    if not token:
        raise NotAuthenticated()
    now = clock.now()
    try:
        claims = tokens.decode(token, secret=settings.signing_secret(), now=now)
    except tokens.TokenError as exc:
        raise InvalidToken() from exc
    actor = await users_service.token_holder(db=db, claims=claims)
    if actor is None:
        raise InvalidToken()
    note_user(actor.id)
    if request.method in WRITE_METHODS and request.scope["path"].startswith("/api/"):
        # After authentication (401 comes first), before the route does anything.
        retry_after = await request.app.state.write_limit.check(actor.id)
        if retry_after is not None:
            raise WriteRateLimited(retry_after=retry_after)
    return actor


CurrentUser = Annotated[Actor, Depends(current_actor)]


def require_role(*roles: Role) -> Callable[[Actor], Coroutine[Any, Any, Actor]]:
    allowed = frozenset(roles)

    async def check(actor: CurrentUser) -> Actor:
        if actor.role not in allowed:
            raise Forbidden(f"This action is for {', '.join(sorted(allowed))} only")
        return actor

    return check


AdminUser = Annotated[Actor, Depends(require_role(Role.ADMIN))]
InterviewerUser = Annotated[Actor, Depends(require_role(Role.INTERVIEWER))]
IntervieweeUser = Annotated[Actor, Depends(require_role(Role.INTERVIEWEE))]
InterviewerOrAdmin = Annotated[Actor, Depends(require_role(Role.INTERVIEWER, Role.ADMIN))]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
