"""HTTP routes of /api/interview-sessions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from starlette.responses import Response

from peerview.context import AnyUser, CheckedRoute
from peerview.interview_sessions import calendar, service
from peerview.interview_sessions.errors import (
    ExtensionLimit,
    InvalidSessionState,
    NotSessionInterviewer,
    SessionNotFound,
    TooEarly,
)
from peerview.interview_sessions.schemas import CancelIn, ExtendIn, JoinRead, SessionRead
from peerview.models.enums import SessionStatus
from peerview.openapi import answers
from peerview.pagination import DEFAULT_LIMIT, Cursor, InvalidCursor, Limit
from peerview.schemas import Page, respond

router = APIRouter(
    prefix="/api/interview-sessions", tags=["interview sessions"], route_class=CheckedRoute
)


@router.get("", **answers(Page[SessionRead], InvalidCursor), summary="My sessions, soonest first")
async def list_sessions(
    ctx: AnyUser,
    status: Annotated[SessionStatus | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    return respond(await service.list_mine(ctx, status=status, cursor=cursor, limit=limit))


@router.get(
    "/{session_id}",
    **answers(SessionRead, SessionNotFound),
    summary="View a session (participants and admins)",
)
async def get_session(session_id: str, ctx: AnyUser) -> Response:
    return respond(await service.get(ctx, session_id=session_id))


@router.post(
    "/{session_id}/join",
    **answers(JoinRead, SessionNotFound, InvalidSessionState),
    summary="Join the lobby (SCHEDULED) or the live session",
)
async def join(session_id: str, ctx: AnyUser) -> Response:
    return respond(await service.join_with_connection_info(ctx, session_id=session_id))


@router.post(
    "/{session_id}/start",
    **answers(SessionRead, NotSessionInterviewer, SessionNotFound, InvalidSessionState, TooEarly),
    summary="Start the session (interviewer)",
)
async def start(session_id: str, ctx: AnyUser) -> Response:
    return respond(await service.start(ctx, session_id=session_id))


@router.post(
    "/{session_id}/extend",
    **answers(
        SessionRead, NotSessionInterviewer, SessionNotFound, InvalidSessionState, ExtensionLimit
    ),
    summary="Extend a LIVE session (interviewer; 60 minutes in total at most)",
)
async def extend(session_id: str, body: ExtendIn, ctx: AnyUser) -> Response:
    return respond(await service.extend(ctx, session_id=session_id, minutes=body.minutes))


@router.post(
    "/{session_id}/end",
    **answers(SessionRead, NotSessionInterviewer, SessionNotFound, InvalidSessionState),
    summary="End a LIVE session (interviewer)",
)
async def end(session_id: str, ctx: AnyUser) -> Response:
    return respond(await service.end(ctx, session_id=session_id))


@router.post(
    "/{session_id}/cancel",
    **answers(SessionRead, SessionNotFound, InvalidSessionState),
    summary="Cancel a SCHEDULED session (either participant)",
)
async def cancel(
    session_id: str, ctx: AnyUser, body: Annotated[CancelIn | None, Body()] = None
) -> Response:
    reason = body.reason if body else None
    return respond(await service.cancel(ctx, session_id=session_id, reason=reason))


@router.get(
    "/{session_id}/calendar.ics",
    response_class=Response,
    **answers(
        None,
        SessionNotFound,
        description="An iCalendar (RFC 5545) event",
        content_type="text/calendar",
    ),
    summary="The session as an iCalendar event (participants)",
)
async def calendar_ics(session_id: str, ctx: AnyUser) -> Response:
    row = await service.load_visible(
        db=ctx.db, actor=ctx.actor, session_id=session_id, admin_may_see=False
    )
    session = await service.read(db=ctx.db, actor=ctx.actor, row=row, now=ctx.now, rules=ctx.rules)
    body = calendar.session_event(
        session, version=row.version, stored_status=row.status, now=ctx.now
    )
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="peerview-{session.id}.ics"'},
    )
