"""The request context: who is asking, on which connection, at what instant, with which services.

Every authenticated route takes one `Ctx`, made by one dependency in one step: the bearer
token decoded, then the user and the token's revocation read in one query (roles come from
the database on every request, never from the token), the role checked (403 before any
lookup), then, for writes, the per-user write limit (429, after 401 and 403). The request's
transaction opens at its first statement after that, so the token check holds no lock, and
commits before the response is sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

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


async def authenticate(db: Connection, claims: tokens.TokenClaims) -> Actor | None:
    """The active user a verified token speaks for, or None: the rules of every request.

    Revoked tokens, deactivated users and tokens issued before a password change are refused.
    """
    holder = await users_repository.token_holder(db, user_id=claims.subject, jti=claims.jti)
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


class Authenticated(OAuth2PasswordBearer):
    """The dependency that makes a route's `Ctx`, for the roles given (any role if none).

    An OAuth2 scheme to FastAPI, so OpenAPI marks the route as needing a bearer token.
    """

    def __init__(self, *roles: Role) -> None:
        super().__init__(tokenUrl="/api/auth/token", auto_error=False)
        self.roles = frozenset(roles)

    async def __call__(self, request: Request) -> AsyncIterator[Ctx]:  # type: ignore[override]
        services = services_of(request)
        token = bearer_token(request)
        if token is None:
            raise NotAuthenticated()
        now = services.clock.now()
        try:
            claims = tokens.decode(token, secret=services.settings.signing_secret(), now=now)
        except tokens.TokenError as exc:
            raise InvalidToken() from exc
        write = request.method in WRITE_METHODS
        async with services.database.acquire() as db:
            actor = await authenticate(db, claims)
            if actor is None:
                raise InvalidToken()
            note_user(actor.id)
            if self.roles and actor.role not in self.roles:
                raise Forbidden(f"This action is for {', '.join(sorted(self.roles))} only")
            if write:
                retry_after = await services.write_limit.check(actor.id)
                if retry_after is not None:
                    raise WriteRateLimited(retry_after=retry_after)
            db.begin(write=write)
            try:
                yield Ctx(services=services, db=db, actor=actor, now=now)
            except BaseException:
                await db.rollback()
                raise
            hooks = await db.commit()
        await run_hooks(hooks)


# A route's context, for the roles it is open to. `scope="function"`: the transaction
# commits when the route returns, before the response is sent.
AnyUser = Annotated[Ctx, Depends(Authenticated(), scope="function")]
Admin = Annotated[Ctx, Depends(Authenticated(Role.ADMIN), scope="function")]
Interviewer = Annotated[Ctx, Depends(Authenticated(Role.INTERVIEWER), scope="function")]
Interviewee = Annotated[Ctx, Depends(Authenticated(Role.INTERVIEWEE), scope="function")]
InterviewerOrAdmin = Annotated[
    Ctx, Depends(Authenticated(Role.INTERVIEWER, Role.ADMIN), scope="function")
]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"
