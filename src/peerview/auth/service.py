"""Registration, login and logout."""

from __future__ import annotations

from datetime import datetime, timedelta

from peerview import tokens
from peerview.auth.errors import InvalidCredentials, LoginThrottled, RoleNotAllowed
from peerview.auth.schemas import RegisterIn, TokenOut
from peerview.config import Settings
from peerview.context import Ctx
from peerview.models.enums import Role
from peerview.services import Services
from peerview.users import service as users_service

SELF_SERVICE_ROLES = frozenset({Role.INTERVIEWER, Role.INTERVIEWEE})


def issue_token(*, settings: Settings, user_id: str, now: datetime) -> str:
    token, _ = tokens.issue(
        secret=settings.signing_secret(),
        subject=user_id,
        now=now,
        lifetime=timedelta(minutes=settings.access_token_minutes),
    )
    return token


async def register(services: Services, *, body: RegisterIn) -> TokenOut:
    """Hash first, then take a connection: argon2's tens of milliseconds must not hold one
    of the pool's few, or a burst of registrations starves every other request."""
    if body.role not in SELF_SERVICE_ROLES:
        raise RoleNotAllowed()
    now = services.clock.now()
    password_hash = await services.passwords.hash(body.password)
    async with services.database.transaction() as db:
        row = await users_service.create(
            db=db,
            now=now,
            name=body.name,
            email=str(body.email),
            password_hash=password_hash,
            role=body.role,
        )
    token = issue_token(settings=services.settings, user_id=row.id, now=now)
    return TokenOut(user=users_service.read(row), access_token=token)


async def login(services: Services, *, email: str, password: str, address: str) -> TokenOut:
    email = users_service.normalise_email(email)
    throttle = services.login_throttle
    attempt = await throttle.begin(email=email, address=address)
    if attempt.retry_after is not None:
        detail = "Too many logins at once; try again in a moment" if attempt.crowded else None
        raise LoginThrottled(detail, retry_after=attempt.retry_after)
    try:
        # The connection goes back to the pool before the slow hash check (see `register`).
        async with services.database.transaction(write=False) as db:
            row = await users_service.find_credentials(db=db, email=email)
        ok = await services.passwords.verify(row.password_hash if row else None, password)
    except BaseException:
        # Not judged (the database failed, say): it must not count against anyone.
        await throttle.abandon(attempt)
        raise
    # Unknown e-mail, wrong password and a deactivated account answer alike, and count alike
    # as one failure, now that it is judged.
    if row is None or not ok or not row.is_active:
        await throttle.failed(attempt)
        raise InvalidCredentials()
    await throttle.succeeded(attempt)
    now = services.clock.now()
    token = issue_token(settings=services.settings, user_id=row.id, now=now)
    return TokenOut(user=users_service.read(row), access_token=token)


async def logout(ctx: Ctx) -> None:
    await users_service.revoke_token(ctx)
