"""Shapes of interview sessions and their actions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from peerview.models.enums import Difficulty, EndReason, QuestionType, SessionStatus
from peerview.schemas import InputModel, OutputModel, UserRef


class SessionQuestionBrief(OutputModel):
    """A session question as the interviewee sees it: title and prompt only."""

    question_id: str
    position: int
    title: str
    prompt: str
    added_at: datetime


class SessionQuestionRead(SessionQuestionBrief):
    """A session question as the interviewer and admins see it."""

    hints: list[str]
    solution: str


class SessionRead(OutputModel):
    id: str
    request_id: str
    interviewer: UserRef
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
    questions: list[SessionQuestionRead | SessionQuestionBrief]


class ExtendIn(InputModel):
    minutes: int = Field(ge=1, le=60)


class CancelIn(InputModel):
    reason: str | None = Field(default=None, max_length=500)


class IceServer(OutputModel):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class RealtimeInfo(OutputModel):
    path: str
    room: str


class JoinRead(OutputModel):
    session: SessionRead
    realtime: RealtimeInfo
    ice_servers: list[IceServer]


class SessionEvent(OutputModel):
    event: Literal["started", "extended", "ended", "cancelled"]
    session: SessionRead
