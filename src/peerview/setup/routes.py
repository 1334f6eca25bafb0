"""HTTP routes of /api/setup: first-run setup, open while no admin exists."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from peerview.auth.errors import LoginThrottled
from peerview.auth.schemas import TokenOut
from peerview.context import CheckedRoute, client_address, services_of
from peerview.openapi import answers
from peerview.schemas import respond
from peerview.setup import service
from peerview.setup.errors import InvalidSetupCode, SetupClosed
from peerview.setup.schemas import FirstAdminCreate, SetupStatus
from peerview.users.errors import EmailTaken

router = APIRouter(prefix="/api/setup", tags=["setup"], route_class=CheckedRoute)


@router.get(
    "",
    **answers(SetupStatus),
    summary="Whether first-run setup is open (no administrator yet)",
)
async def setup_status(request: Request) -> Response:
    return respond(await service.status(services_of(request)))


@router.post(
    "/admin",
    **answers(TokenOut, SetupClosed, InvalidSetupCode, EmailTaken, LoginThrottled, status=201),
    summary="Make the first administrator with the setup code `peerview serve` printed",
    description=(
        "Open while no administrator exists. The code is the one-time setup code printed in "
        "the server's log at start; it works once. Wrong codes count as failed logins of the "
        "client address (429 `TOO_MANY_LOGIN_ATTEMPTS` past the limit, with `Retry-After`)."
    ),
)
async def create_first_admin(body: FirstAdminCreate, request: Request) -> Response:
    result = await service.create_first_admin(
        services_of(request), body=body, address=client_address(request)
    )
    return respond(result, 201)
