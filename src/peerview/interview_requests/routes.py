"""HTTP routes of /api/interview-requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime
from starlette.responses import Response

from peerview.context import AnyUser, CheckedRoute, Interviewee, Interviewer, InterviewerOrAdmin
from peerview.interview_requests import service
from peerview.interview_requests.errors import (
    RequestExpired,
    RequestNotFound,
    RequestNotOpen,
    ScheduleConflict,
    ScheduleTooFar,
    ScheduleTooSoon,
    SelfAccept,
    TooManyOpenRequests,
)
from peerview.interview_requests.schemas import RequestCreate, RequestRead
from peerview.interview_sessions.schemas import SessionRead
from peerview.models.enums import Difficulty, QuestionType, RequestStatus
from peerview.openapi import answers
from peerview.pagination import DEFAULT_LIMIT, Cursor, InvalidCursor, Limit
from peerview.schemas import Page, respond

router = APIRouter(
    prefix="/api/interview-requests", tags=["interview requests"], route_class=CheckedRoute
)


@router.post(
    "",
    **answers(RequestRead, ScheduleTooSoon, ScheduleTooFar, TooManyOpenRequests, status=201),
    summary="Post an interview request (interviewee)",
)
async def create_request(body: RequestCreate, ctx: Interviewee) -> Response:
    return respond(await service.create(ctx, body=body), 201)


@router.get(
    "/open",
    **answers(Page[RequestRead], InvalidCursor),
    summary="Open, unexpired requests, soonest first (interviewers and admins)",
)
async def list_open(
    ctx: InterviewerOrAdmin,
    category: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    difficulty: Annotated[Difficulty | None, Query()] = None,
    type: Annotated[QuestionType | None, Query()] = None,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="scheduled at or after")
    ] = None,
    to: Annotated[AwareDatetime | None, Query(description="scheduled at or before")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    page = await service.list_open(
        ctx,
        category=category,
        difficulty=difficulty,
        type_=type,
        scheduled_from=from_,
        scheduled_to=to,
        cursor=cursor,
        limit=limit,
    )
    return respond(page)


@router.get(
    "/mine",
    **answers(Page[RequestRead], InvalidCursor),
    summary="Requests I posted (interviewee) or accepted (interviewer), newest first",
)
async def list_mine(
    ctx: AnyUser,
    status: Annotated[RequestStatus | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    return respond(await service.list_mine(ctx, status=status, cursor=cursor, limit=limit))


@router.get(
    "/{request_id}",
    **answers(RequestRead, RequestNotFound),
    summary="One request (its owner, its interviewer, any interviewer while open, admins)",
)
async def get_request(request_id: str, ctx: AnyUser) -> Response:
    return respond(await service.get(ctx, request_id=request_id))


@router.post(
    "/{request_id}/accept",
    **answers(
        SessionRead,
        SelfAccept,
        RequestNotFound,
        RequestNotOpen,
        RequestExpired,
        ScheduleConflict,
        status=201,
    ),
    summary="Accept a request (interviewer): creates the session",
)
async def accept(request_id: str, ctx: Interviewer) -> Response:
    return respond(await service.accept(ctx, request_id=request_id), 201)


@router.post(
    "/{request_id}/cancel",
    **answers(RequestRead, RequestNotFound, RequestNotOpen),
    summary="Cancel my open request",
)
async def cancel(request_id: str, ctx: AnyUser) -> Response:
    return respond(await service.cancel(ctx, request_id=request_id))
