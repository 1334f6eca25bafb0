"""HTTP routes of /api/practice-sessions (docs/api.md §13)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from peerview.context import AnyUser, CheckedRoute, Interviewee
from peerview.interview_sessions.errors import SessionNotFound
from peerview.openapi import answers
from peerview.practice import service
from peerview.practice.errors import NoQuestionAvailable, PracticeInProgress, PracticeLimitReached
from peerview.practice.schemas import PracticeCreate, PracticeRead, Transcript
from peerview.schemas import respond

router = APIRouter(
    prefix="/api/practice-sessions", tags=["practice sessions"], route_class=CheckedRoute
)


@router.post(
    "",
    **answers(
        PracticeRead,
        NoQuestionAvailable,
        PracticeInProgress,
        PracticeLimitReached,
        status=201,
    ),
    summary="Start a practice session with the AI interviewer (interviewees)",
)
async def create(body: PracticeCreate, ctx: Interviewee) -> Response:
    return respond(await service.create(ctx, body=body), 201)


@router.get(
    "/{session_id}",
    **answers(PracticeRead, SessionNotFound),
    summary="A practice session, its state and feedback (its interviewee and admins)",
)
async def get(session_id: str, ctx: AnyUser) -> Response:
    return respond(await service.get(ctx, session_id=session_id))


@router.get(
    "/{session_id}/transcript",
    **answers(Transcript, SessionNotFound),
    summary="A practice session's transcript (its interviewee and admins)",
)
async def transcript(session_id: str, ctx: AnyUser) -> Response:
    return respond(await service.transcript(ctx, session_id=session_id))
