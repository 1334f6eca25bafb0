"""HTTP routes of /api/interview-sessions/{id}/code: the session's code pad."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from peerview.codepad import service
from peerview.codepad.schemas import CodeLanguageUpdate, CodeRead
from peerview.context import AnyUser, CheckedRoute
from peerview.interview_sessions.errors import (
    InvalidSessionState,
    NotSessionInterviewer,
    SessionNotFound,
)
from peerview.openapi import answers
from peerview.schemas import respond

router = APIRouter(prefix="/api/interview-sessions", tags=["code pad"], route_class=CheckedRoute)


@router.get(
    "/{session_id}/code",
    **answers(CodeRead, SessionNotFound),
    summary="The session's code and its language (participants and admins)",
    description=(
        "In any state of the session: during it, the text as last stored; after it, the "
        "final code. `updated_at` is null while nothing was written. Anyone but the "
        "participants and admins gets 404 `SESSION_NOT_FOUND`. Edits travel over Socket.IO "
        "(`code_sync`, `code_update`)."
    ),
)
async def get_code(session_id: str, ctx: AnyUser) -> Response:
    return respond(await service.read(ctx, session_id=session_id))


@router.patch(
    "/{session_id}/code",
    **answers(CodeRead, NotSessionInterviewer, SessionNotFound, InvalidSessionState),
    summary="Set the code pad's language (interviewer; SCHEDULED or LIVE)",
    description=(
        "One of `python`, `javascript`, `typescript`, `java`, `cpp`, `go`, `plaintext`. "
        "Both participants' sockets get `code_language` once it is stored. Only the "
        "session's interviewer: the interviewee gets 403 `NOT_SESSION_INTERVIEWER`, anyone "
        "else (admins included) 404 `SESSION_NOT_FOUND`."
    ),
)
async def set_language(session_id: str, body: CodeLanguageUpdate, ctx: AnyUser) -> Response:
    return respond(await service.set_language(ctx, session_id=session_id, language=body.language))
