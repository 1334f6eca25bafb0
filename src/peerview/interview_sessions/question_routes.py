"""HTTP routes of /api/interview-sessions/{id}/questions: the session's question list."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from pydantic import Field

from peerview.context import AnyUser, CheckedRoute
from peerview.interview_sessions import session_questions
from peerview.interview_sessions.errors import (
    InvalidSessionState,
    NotSessionInterviewer,
    SessionNotFound,
)
from peerview.interview_sessions.schemas import SessionQuestionRead
from peerview.openapi import answers
from peerview.questions.errors import QuestionNotFound
from peerview.schemas import InputModel, Output, respond

router = APIRouter(
    prefix="/api/interview-sessions", tags=["session questions"], route_class=CheckedRoute
)

WHO = (
    "Only the session's interviewer: the interviewee gets 403 `NOT_SESSION_INTERVIEWER`, "
    "anyone else (admins included) 404 `SESSION_NOT_FOUND`."
)


class SessionQuestionAdd(InputModel):
    question_id: str = Field(min_length=1, max_length=64, description="A bank question's id.")


class SuggestIn(InputModel):
    count: int = Field(ge=1, le=10, description="How many questions to add at most (1 to 10).")


class SessionQuestionList(Output):
    items: list[SessionQuestionRead]


@router.post(
    "/{session_id}/questions",
    **answers(
        SessionQuestionRead,
        NotSessionInterviewer,
        SessionNotFound,
        QuestionNotFound,
        InvalidSessionState,
        session_questions.QuestionAlreadyAdded,
        status=201,
    ),
    summary="Add a bank question to a SCHEDULED or LIVE session (interviewer)",
    description=(
        "Copies the question (title, prompt, hints, solution) into the session: later edits "
        "or deletion of the bank question do not change it. It takes the next position. " + WHO
    ),
)
async def add_question(session_id: str, body: SessionQuestionAdd, ctx: AnyUser) -> Response:
    added = await session_questions.add(ctx, session_id=session_id, question_id=body.question_id)
    return respond(added, 201)


@router.post(
    "/{session_id}/questions/suggest",
    **answers(
        SessionQuestionList,
        NotSessionInterviewer,
        SessionNotFound,
        InvalidSessionState,
        status=201,
    ),
    summary="Add up to `count` fresh matching questions (interviewer)",
    description=(
        "Adds, oldest first, bank questions of the session's category, difficulty and type "
        "that this interviewee has not had in any session (whatever that session's state). "
        "Fewer than `count` are added when the bank has no more; the answer is the session's "
        "whole question list, in position order. " + WHO
    ),
)
async def suggest_questions(session_id: str, body: SuggestIn, ctx: AnyUser) -> Response:
    items = await session_questions.suggest(ctx, session_id=session_id, count=body.count)
    return respond(SessionQuestionList(items=items), 201)


@router.delete(
    "/{session_id}/questions/{question_id}",
    response_class=Response,
    **answers(
        None,
        NotSessionInterviewer,
        SessionNotFound,
        QuestionNotFound,
        InvalidSessionState,
        status=204,
        description="Removed",
    ),
    summary="Remove a question from a session that is not over (interviewer)",
    description=(
        "Allowed while the session is SCHEDULED or LIVE; once it is COMPLETED or CANCELLED "
        "its questions are history (409 `INVALID_SESSION_STATE`). The other questions keep "
        "their positions. " + WHO
    ),
)
async def remove_question(session_id: str, question_id: str, ctx: AnyUser) -> Response:
    await session_questions.remove(ctx, session_id=session_id, question_id=question_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
