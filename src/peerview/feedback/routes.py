"""HTTP routes of /api/feedback."""

from __future__ import annotations

from fastapi import APIRouter, status

from peerview.deps import DB, ClockDep, CurrentUser, EventsDep, SettingsDep
from peerview.errors import InvalidToken, NotAuthenticated, problem_schema
from peerview.feedback import service
from peerview.feedback.errors import FeedbackExists, SessionNotCompleted
from peerview.feedback.schemas import FeedbackCreate, FeedbackPage, FeedbackRead
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.errors import SessionNotFound
from peerview.pagination import DEFAULT_LIMIT, Cursor, InvalidCursor, Limit

router = APIRouter(prefix="/api/feedback", tags=["feedback"])

AUTH = (NotAuthenticated, InvalidToken)

DOUBLE_BLIND = (
    "Double-blind: a participant sees the other participant's feedback only once they have "
    "left their own for that session, or once 72 hours have passed since the session ended "
    "(for a session that timed out, its hard end). Until then that item is "
    '`{"id", "author_role", "hidden": true}`. Admins always see everything.'
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackRead,
    responses=problem_schema(*AUTH, SessionNotFound, SessionNotCompleted, FeedbackExists),
    summary="Leave feedback about the other participant of a completed session",
    description=(
        "For the two participants only (anyone else, admins included, gets 404). The session "
        "must be COMPLETED, which a LIVE session past its hard end already is. Once per "
        "author per session. The subject is the other participant; `author_role` is the "
        "author's role in that session."
    ),
)
async def submit_feedback(
    body: FeedbackCreate,
    actor: CurrentUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    events: EventsDep,
) -> FeedbackRead:
    return await service.submit(
        db=db,
        events=events,
        actor=actor,
        body=body,
        now=clock.now(),
        rules=sessions_service.time_rules(settings),
    )


@router.get(
    "/session/{session_id}",
    response_model=FeedbackPage,
    responses=problem_schema(*AUTH, SessionNotFound, InvalidCursor),
    summary="A session's feedback, oldest first (participants and admins)",
    description=DOUBLE_BLIND,
)
async def list_session_feedback(
    session_id: str,
    actor: CurrentUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> FeedbackPage:
    return await service.list_for_session(
        db=db,
        actor=actor,
        session_id=session_id,
        now=clock.now(),
        rules=sessions_service.time_rules(settings),
        cursor=cursor,
        limit=limit,
    )


@router.get(
    "/received",
    response_model=FeedbackPage,
    responses=problem_schema(*AUTH, InvalidCursor),
    summary="Feedback about me, newest first",
    description=DOUBLE_BLIND,
)
async def list_received_feedback(
    actor: CurrentUser,
    db: DB,
    clock: ClockDep,
    settings: SettingsDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> FeedbackPage:
    return await service.list_received(
        db=db,
        actor=actor,
        now=clock.now(),
        rules=sessions_service.time_rules(settings),
        cursor=cursor,
        limit=limit,
    )
