"""HTTP routes of /api/interview-sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from peerview.deps import DB, ClockDep, CurrentUser, EventsDep, SettingsDep
from peerview.errors import InvalidToken, NotAuthenticated, problem_schema
from peerview.interview_sessions import calendar, realtime_info, service
from peerview.interview_sessions.errors import (
    ExtensionLimit,
    InvalidSessionState,
    NotSessionInterviewer,
    SessionNotFound,
    TooEarly,
)
from peerview.interview_sessions.schemas import CancelIn, ExtendIn, JoinRead, SessionRead
from peerview.models.enums import SessionStatus
from peerview.pagination import DEFAULT_LIMIT, Cursor, Limit, Page

router = APIRouter(prefix="/api/interview-sessions", tags=["interview sessions"])

AUTH = (NotAuthenticated, InvalidToken)


@router.get(
    "",
    response_model=Page[SessionRead],
    responses=problem_schema(*AUTH),
    summary="My sessions, soonest first",
)
async def list_sessions(
    actor: CurrentUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    status: Annotated[SessionStatus | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Page[SessionRead]:
    return await service.list_mine(
        db=db,
        actor=actor,
        status=status,
        now=clock.now(),
        rules=service.time_rules(settings),
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/{session_id}",
    response_model=SessionRead,
    responses=problem_schema(*AUTH, SessionNotFound),
    summary="View a session (participants and admins)",
)
async def get_session(
    session_id: str, actor: CurrentUser, db: DB, clock: ClockDep, settings: SettingsDep
) -> SessionRead:
    return await service.get(
        db=db,
        actor=actor,
        session_id=session_id,
        now=clock.now(),
        rules=service.time_rules(settings),
    )


@router.post(
    "/{session_id}/join",
    response_model=JoinRead,
    responses=problem_schema(*AUTH, SessionNotFound, InvalidSessionState),
    summary="Join the lobby (SCHEDULED) or the live session",
)
async def join(
    session_id: str, actor: CurrentUser, db: DB, clock: ClockDep, settings: SettingsDep
) -> JoinRead:
    now = clock.now()
    session = await service.join(
        db=db, actor=actor, session_id=session_id, now=now, rules=service.time_rules(settings)
    )
    return JoinRead(
        session=session,
        realtime=realtime_info.realtime_for(session.id),
        ice_servers=realtime_info.ice_servers(settings=settings, user_id=actor.id, now=now),
    )


@router.post(
    "/{session_id}/start",
    response_model=SessionRead,
    responses=problem_schema(
        *AUTH, NotSessionInterviewer, SessionNotFound, InvalidSessionState, TooEarly
    ),
    summary="Start the session (interviewer)",
)
async def start(
    session_id: str,
    actor: CurrentUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    events: EventsDep,
) -> SessionRead:
    return await service.start(
        db=db,
        events=events,
        actor=actor,
        session_id=session_id,
        now=clock.now(),
        rules=service.time_rules(settings),
    )


@router.post(
    "/{session_id}/extend",
    response_model=SessionRead,
    responses=problem_schema(
        *AUTH, NotSessionInterviewer, SessionNotFound, InvalidSessionState, ExtensionLimit
    ),
    summary="Extend a LIVE session (interviewer; 60 minutes in total at most)",
)
async def extend(
    session_id: str,
    body: ExtendIn,
    actor: CurrentUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    events: EventsDep,
) -> SessionRead:
    return await service.extend(
        db=db,
        events=events,
        actor=actor,
        session_id=session_id,
        minutes=body.minutes,
        now=clock.now(),
        rules=service.time_rules(settings),
    )


@router.post(
    "/{session_id}/end",
    response_model=SessionRead,
    responses=problem_schema(*AUTH, NotSessionInterviewer, SessionNotFound, InvalidSessionState),
    summary="End a LIVE session (interviewer)",
)
async def end(
    session_id: str,
    actor: CurrentUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    events: EventsDep,
) -> SessionRead:
    return await service.end(
        db=db,
        events=events,
        actor=actor,
        session_id=session_id,
        now=clock.now(),
        rules=service.time_rules(settings),
    )


@router.post(
    "/{session_id}/cancel",
    response_model=SessionRead,
    responses=problem_schema(*AUTH, SessionNotFound, InvalidSessionState),
    summary="Cancel a SCHEDULED session (either participant)",
)
async def cancel(
    session_id: str,
    actor: CurrentUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    events: EventsDep,
    body: Annotated[CancelIn | None, Body()] = None,
) -> SessionRead:
    return await service.cancel(
        db=db,
        events=events,
        actor=actor,
        session_id=session_id,
        reason=body.reason if body else None,
        now=clock.now(),
        rules=service.time_rules(settings),
    )


@router.get(
    "/{session_id}/calendar.ics",
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "An iCalendar (RFC 5545) event"},
        **problem_schema(*AUTH, SessionNotFound),
    },
    summary="The session as an iCalendar event (participants)",
)
async def calendar_ics(
    session_id: str,
    actor: CurrentUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
) -> Response:
    now = clock.now()
    row = await service.load_visible(db=db, actor=actor, session_id=session_id, admin_may_see=False)
    session = await service.read(
        db=db, actor=actor, row=row, now=now, rules=service.time_rules(settings)
    )
    body = calendar.session_event(
        session, version=row["version"], stored_status=row["status"], now=now
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="peerview-{session.id}.ics"'},
    )
