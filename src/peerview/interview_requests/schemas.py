"""Shapes of interview requests."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field, field_validator

from peerview.models.enums import Difficulty, QuestionType, RequestStatus
from peerview.schemas import InputModel, Output, UserRef


class RequestCreate(InputModel):
    category: str = Field(min_length=1, max_length=64, examples=["arrays"])
    difficulty: Difficulty
    type: QuestionType = QuestionType.CODING
    scheduled_at: AwareDatetime
    duration_minutes: int = Field(default=60, ge=15, le=180)
    note: str = Field(default="", max_length=1000)

    @field_validator("category")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class RequestRead(Output):
    id: str
    interviewee: UserRef
    category: str
    difficulty: Difficulty
    type: QuestionType
    scheduled_at: datetime
    duration_minutes: int
    note: str
    status: RequestStatus
    expires_at: datetime
    created_at: datetime
    session_id: str | None
