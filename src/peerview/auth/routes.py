"""HTTP routes of /api/auth."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.security import OAuth2PasswordRequestForm

from peerview.auth import service
from peerview.auth.errors import InvalidCredentials, LoginThrottled, RoleNotAllowed
from peerview.auth.schemas import LoginIn, LogoutOut, OAuth2TokenOut, RegisterIn, TokenOut
from peerview.deps import DB, ClockDep, CurrentUser, SettingsDep, client_address
from peerview.errors import InvalidToken, NotAuthenticated, problem_schema
from peerview.users.errors import EmailTaken
from peerview.users.schemas import UserRead

router = APIRouter(prefix="/api/auth", tags=["auth"])


@router.post(
    "/register",
    status_code=201,
    response_model=TokenOut,
    responses=problem_schema(RoleNotAllowed, EmailTaken),
    summary="Create an account (interviewer or interviewee)",
)
async def register(
    body: RegisterIn, clock: ClockDep, settings: SettingsDep, request: Request
) -> TokenOut:
    # No `DB` dependency: the service opens its transaction after hashing the password.
    return await service.register(
        database=request.app.state.database,
        now=clock.now(),
        settings=settings,
        passwords=request.app.state.passwords,
        body=body,
    )


async def _login(
    request: Request, clock: ClockDep, settings: SettingsDep, email: str, password: str
) -> TokenOut:
    return await service.login(
        database=request.app.state.database,
        now=clock.now(),
        settings=settings,
        passwords=request.app.state.passwords,
        throttle=request.app.state.login_throttle,
        email=email,
        password=password,
        address=client_address(request),
    )


@router.post(
    "/login",
    response_model=TokenOut,
    responses=problem_schema(InvalidCredentials, LoginThrottled),
    summary="Log in with e-mail and password",
)
async def login(
    body: LoginIn, clock: ClockDep, settings: SettingsDep, request: Request
) -> TokenOut:
    return await _login(request, clock, settings, body.email, body.password)


class PasswordForm(OAuth2PasswordRequestForm):
    """The OAuth2 password form, bounded like the JSON login (e-mail 320, password 128)."""

    def __init__(
        self,
        *,
        grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
        username: Annotated[str, Form(min_length=1, max_length=320)],
        password: Annotated[
            str, Form(min_length=1, max_length=128, json_schema_extra={"format": "password"})
        ],
        scope: Annotated[str, Form(max_length=1000)] = "",
        client_id: Annotated[str | None, Form(max_length=320)] = None,
        client_secret: Annotated[
            str | None, Form(max_length=128, json_schema_extra={"format": "password"})
        ] = None,
    ) -> None:
        super().__init__(
            grant_type=grant_type,
            username=username,
            password=password,
            scope=scope,
            client_id=client_id,
            client_secret=client_secret,
        )


@router.post(
    "/token",
    response_model=OAuth2TokenOut,
    responses=problem_schema(InvalidCredentials, LoginThrottled),
    summary="OAuth2 password flow (the /docs Authorize button); username is the e-mail",
)
async def token(
    form: Annotated[PasswordForm, Depends()],
    clock: ClockDep,
    settings: SettingsDep,
    request: Request,
) -> OAuth2TokenOut:
    result = await _login(request, clock, settings, form.username, form.password)
    return OAuth2TokenOut(access_token=result.access_token)


@router.get(
    "/me",
    response_model=UserRead,
    responses=problem_schema(NotAuthenticated, InvalidToken),
    summary="The caller's account",
)
async def me(actor: CurrentUser) -> UserRead:
    return UserRead(
        id=actor.id,
        name=actor.name,
        email=actor.email,
        role=actor.role,
        is_active=actor.is_active,
        email_notifications=actor.email_notifications,
        created_at=actor.created_at,
    )


@router.post(
    "/logout",
    response_model=LogoutOut,
    responses=problem_schema(NotAuthenticated, InvalidToken),
    summary="Revoke the token used for this call",
)
async def logout(actor: CurrentUser, db: DB) -> LogoutOut:
    await service.logout(db=db, actor=actor)
    return LogoutOut(revoked=True)
