"""Shapes of practice sessions, their transcript and their feedback (docs/api.md §13)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator

from peerview.interview_sessions.schemas import SessionRead
from peerview.models.enums import Difficulty, PracticeEngine, QuestionType
from peerview.schemas import InputModel, Output

MessageRole = Literal["interviewer", "candidate", "notice"]
MessageKind = Literal[
    "intro", "question", "reply", "hint", "warning", "closing", "notice", "message"
]
FallbackReason = Literal["model_failed", "budget_spent"]


class PracticeCreate(InputModel):
    category: str = Field(min_length=1, max_length=64, examples=["arrays"])
    difficulty: Difficulty
    type: QuestionType = QuestionType.CODING
    duration_minutes: int = Field(default=45, ge=15, le=120)

    @field_validator("category")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class PracticeMessageIn(InputModel):
    """The `practice_message` socket event: what the interviewee says."""

    session_id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=4000)
    # Asks for the question's next hint (so does a short message asking for one).
    hint: bool = False


class PracticeMessageRead(Output):
    id: str
    seq: int
    role: MessageRole
    kind: MessageKind
    text: str
    # MODEL or BUILTIN for the interviewer's messages; null for the candidate's and notices.
    source: PracticeEngine | None
    created_at: datetime


class Transcript(Output):
    items: list[PracticeMessageRead]


class PracticeRatings(Output):
    communication: int
    problem_solving: int
    technical: int
    overall: int


class PracticeComment(Output):
    text: str
    # What it points at: a message of the transcript (its seq), a line of the code pad.
    message_seq: int | None
    code_line: int | None
    excerpt: str | None


class PracticeFeedbackRead(Output):
    # MODEL: written by the model from the transcript, the code and the solution; BUILTIN:
    # measured by the built-in interviewer (`basis` says what it measured).
    source: PracticeEngine
    ratings: PracticeRatings
    comments: list[PracticeComment]
    basis: str
    created_at: datetime


class PracticeRead(Output):
    session: SessionRead
    engine: PracticeEngine
    model: str | None
    fallback_reason: FallbackReason | None
    token_budget: int
    tokens_used: int
    hints_total: int
    hints_given: int
    feedback: PracticeFeedbackRead | None
