"""Shapes of interview sessions and their actions."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import Field

from peerview.events import SessionEventName
from peerview.models.enums import Difficulty, EndReason, QuestionType, SessionKind, SessionStatus
from peerview.schemas import InputModel, Output, UserRef, one_of


class SessionQuestionBrief(Output):
    """A session question as the interviewee sees it: title and prompt only."""

    question_id: str
    position: int
    title: str
    prompt: str
    added_at: datetime


class SessionQuestionRead(Output):
    """A session question as the interviewer and admins see it."""

    question_id: str
    position: int
    title: str
    prompt: str
    added_at: datetime
    hints: list[str]
    solution: str


if TYPE_CHECKING:
    SessionQuestionView = SessionQuestionRead | SessionQuestionBrief
else:
    SessionQuestionView = one_of(SessionQuestionRead, SessionQuestionBrief)


class SessionRead(Output):
    id: str
    # PRACTICE: a practice session with the AI interviewer (docs/api.md §13), which has no
    # request and no human interviewer (both null).
    kind: SessionKind
    request_id: str | None
    interviewer: UserRef | None
    interviewee: UserRef
    category: str
    difficulty: Difficulty
    type: QuestionType
    status: SessionStatus
    scheduled_at: datetime
    duration_minutes: int
    started_at: datetime | None
    planned_end_at: datetime | None
    hard_end_at: datetime | None
    ended_at: datetime | None
    end_reason: EndReason | None
    extended_minutes: int
    interviewee_joined_at: datetime | None
    questions: list[SessionQuestionView]


class ExtendIn(InputModel):
    minutes: int = Field(ge=1, le=60)


class CancelIn(InputModel):
    reason: str | None = Field(default=None, max_length=500)


class IceServer(Output, omit_defaults=True):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class RealtimeInfo(Output):
    path: str
    room: str


class JoinRead(Output):
    session: SessionRead
    realtime: RealtimeInfo
    ice_servers: list[IceServer]


class SessionEvent(Output):
    """The `session` push (docs/api.md §8.3)."""

    event: SessionEventName
    session: SessionRead
