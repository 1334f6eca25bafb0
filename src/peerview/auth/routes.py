"""HTTP routes of /api/auth."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.security import OAuth2PasswordRequestForm
from starlette.responses import Response

from peerview.auth import service
from peerview.auth.errors import InvalidCredentials, LoginThrottled, RoleNotAllowed
from peerview.auth.schemas import LoginIn, LogoutOut, OAuth2TokenOut, RegisterIn, TokenOut
from peerview.context import AnyUser, CheckedRoute, client_address, services_of
from peerview.openapi import answers
from peerview.schemas import respond
from peerview.users import service as users_service
from peerview.users.errors import EmailTaken
from peerview.users.schemas import UserRead

router = APIRouter(prefix="/api/auth", tags=["auth"], route_class=CheckedRoute)


@router.post(
    "/register",
    **answers(TokenOut, RoleNotAllowed, EmailTaken, status=201),
    summary="Create an account (interviewer or interviewee)",
)
async def register(body: RegisterIn, request: Request) -> Response:
    return respond(await service.register(services_of(request), body=body), 201)


@router.post(
    "/login",
    **answers(TokenOut, InvalidCredentials, LoginThrottled),
    summary="Log in with e-mail and password",
)
async def login(body: LoginIn, request: Request) -> Response:
    result = await service.login(
        services_of(request),
        email=body.email,
        password=body.password,
        address=client_address(request),
    )
    return respond(result)


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
    **answers(OAuth2TokenOut, InvalidCredentials, LoginThrottled),
    summary="OAuth2 password flow (the /docs Authorize button); username is the e-mail",
)
async def token(form: Annotated[PasswordForm, Depends()], request: Request) -> Response:
    result = await service.login(
        services_of(request),
        email=form.username,
        password=form.password,
        address=client_address(request),
    )
    return respond(OAuth2TokenOut(access_token=result.access_token))


@router.get("/me", **answers(UserRead), summary="The caller's account")
async def me(ctx: AnyUser) -> Response:
    return respond(users_service.read(ctx.actor))


@router.post(
    "/logout",
    **answers(LogoutOut),
    summary="Revoke the token used for this call",
    description=(
        "The token is refused from then on, and the Socket.IO connections opened with it are "
        "ended (`access_revoked`, reason `logout`) on every server process before this "
        "answers. The user's other tokens keep working."
    ),
)
async def logout(ctx: AnyUser) -> Response:
    await service.logout(ctx)
    return respond(LogoutOut(revoked=True))
