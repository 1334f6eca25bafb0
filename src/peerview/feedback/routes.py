"""HTTP routes of /api/feedback."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from peerview.context import AnyUser, CheckedRoute
from peerview.feedback import service
from peerview.feedback.errors import FeedbackExists, SessionNotCompleted
from peerview.feedback.schemas import FeedbackCreate, FeedbackPage, FeedbackRead
from peerview.interview_sessions.errors import SessionNotFound
from peerview.openapi import answers
from peerview.pagination import DEFAULT_LIMIT, Cursor, InvalidCursor, Limit
from peerview.schemas import respond

router = APIRouter(prefix="/api/feedback", tags=["feedback"], route_class=CheckedRoute)

DOUBLE_BLIND = (
    "Double-blind: a participant sees the other participant's feedback only once they have "
    "left their own for that session, or once 72 hours have passed since the session ended "
    "(for a session that timed out, its hard end). Until then that item is "
    '`{"id", "author_role", "hidden": true}`. Admins always see everything.'
)


@router.post(
    "",
    **answers(FeedbackRead, SessionNotFound, SessionNotCompleted, FeedbackExists, status=201),
    summary="Leave feedback about the other participant of a completed session",
    description=(
        "For the two participants only (anyone else, admins included, gets 404). The session "
        "must be COMPLETED, which a LIVE session past its hard end already is. Once per "
        "author per session. The subject is the other participant; `author_role` is the "
        "author's role in that session."
    ),
)
async def submit_feedback(body: FeedbackCreate, ctx: AnyUser) -> Response:
    return respond(await service.submit(ctx, body=body), 201)


@router.get(
    "/session/{session_id}",
    **answers(FeedbackPage, SessionNotFound, InvalidCursor),
    summary="A session's feedback, oldest first (participants and admins)",
    description=DOUBLE_BLIND,
)
async def list_session_feedback(
    session_id: str, ctx: AnyUser, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response:
    page = await service.list_for_session(ctx, session_id=session_id, cursor=cursor, limit=limit)
    return respond(page)


@router.get(
    "/received",
    **answers(FeedbackPage, InvalidCursor),
    summary="Feedback about me, newest first",
    description=DOUBLE_BLIND,
)
async def list_received_feedback(
    ctx: AnyUser, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Response:
    return respond(await service.list_received(ctx, cursor=cursor, limit=limit))
