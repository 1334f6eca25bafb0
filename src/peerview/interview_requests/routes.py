"""HTTP routes of /api/interview-requests."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from peerview.deps import (
    DB,
    ClockDep,
    CurrentUser,
    EventsDep,
    IntervieweeUser,
    InterviewerOrAdmin,
    InterviewerUser,
    SettingsDep,
)
from peerview.errors import Forbidden, InvalidToken, NotAuthenticated, problem_schema
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
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.schemas import SessionRead
from peerview.models.enums import Difficulty, QuestionType, RequestStatus
from peerview.pagination import DEFAULT_LIMIT, Cursor, Limit, Page

router = APIRouter(prefix="/api/interview-requests", tags=["interview requests"])

AUTH = (NotAuthenticated, InvalidToken)


@router.post(
    "",
    status_code=201,
    response_model=RequestRead,
    responses=problem_schema(
        *AUTH, Forbidden, ScheduleTooSoon, ScheduleTooFar, TooManyOpenRequests
    ),
    summary="Post an interview request (interviewee)",
)
async def create_request(
    body: RequestCreate,
    actor: IntervieweeUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
) -> RequestRead:
    return await service.create(
        db=db, actor=actor, body=body, now=clock.now(), rules=sessions_service.time_rules(settings)
    )


@router.get(
    "/open",
    response_model=Page[RequestRead],
    responses=problem_schema(*AUTH, Forbidden),
    summary="Open, unexpired requests, soonest first (interviewers and admins)",
)
async def list_open(
    _: InterviewerOrAdmin,
    db: DB,
    clock: ClockDep,
    category: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
    difficulty: Annotated[Difficulty | None, Query()] = None,
    type: Annotated[QuestionType | None, Query()] = None,
    from_: Annotated[
        AwareDatetime | None, Query(alias="from", description="scheduled at or after")
    ] = None,
    to: Annotated[AwareDatetime | None, Query(description="scheduled at or before")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RequestRead]:
    return await service.list_open(
        db=db,
        now=clock.now(),
        category=category,
        difficulty=difficulty,
        type_=type,
        scheduled_from=from_,
        scheduled_to=to,
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/mine",
    response_model=Page[RequestRead],
    responses=problem_schema(*AUTH),
    summary="Requests I posted (interviewee) or accepted (interviewer), newest first",
)
async def list_mine(
    actor: CurrentUser,
    db: DB,
    clock: ClockDep,
    status: Annotated[RequestStatus | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[RequestRead]:
    return await service.list_mine(
        db=db, actor=actor, status=status, now=clock.now(), cursor=cursor, limit=limit
    )


@router.get(
    "/{request_id}",
    response_model=RequestRead,
    responses=problem_schema(*AUTH, RequestNotFound),
    summary="One request (its owner, its interviewer, any interviewer while open, admins)",
)
async def get_request(request_id: str, actor: CurrentUser, db: DB, clock: ClockDep) -> RequestRead:
    return await service.get(db=db, actor=actor, request_id=request_id, now=clock.now())


@router.post(
    "/{request_id}/accept",
    status_code=201,
    response_model=SessionRead,
    responses=problem_schema(
        *AUTH,
        Forbidden,
        SelfAccept,
        RequestNotFound,
        RequestNotOpen,
        RequestExpired,
        ScheduleConflict,
    ),
    summary="Accept a request (interviewer): creates the session",
)
async def accept(
    request_id: str,
    actor: InterviewerUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    events: EventsDep,
) -> SessionRead:
    return await service.accept(
        db=db,
        events=events,
        actor=actor,
        request_id=request_id,
        now=clock.now(),
        rules=sessions_service.time_rules(settings),
    )


@router.post(
    "/{request_id}/cancel",
    response_model=RequestRead,
    responses=problem_schema(*AUTH, RequestNotFound, RequestNotOpen),
    summary="Cancel my open request",
)
async def cancel(request_id: str, actor: CurrentUser, db: DB, clock: ClockDep) -> RequestRead:
    return await service.cancel(db=db, actor=actor, request_id=request_id, now=clock.now())
