"""Practice sessions with the AI interviewer (docs/api.md §13): the conversation's state beside
its `interview_sessions` row, and the transcript, one row per message."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from peerview.models.base import Base, JSONList, new_id


class PracticeSession(Base):
    __tablename__ = "practice_sessions"
    __table_args__ = (
        CheckConstraint("engine IN ('MODEL', 'BUILTIN')", name="engine"),
        CheckConstraint("tokens_used >= 0", name="tokens_used"),
        # AI_SESSIONS_PER_USER_PER_DAY: a user's practice sessions of one UTC day.
        Index("ix_practice_sessions_interviewee_created", "interviewee_id", "created_at"),
        # The sweeper's work: sessions to warn, and ended ones still without feedback.
        Index("ix_practice_sessions_feedback_at", "feedback_at"),
    )

    session_id: Mapped[str] = mapped_column(
        ForeignKey("interview_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    interviewee_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Who answers now: MODEL until the model fails or the budget is spent, then BUILTIN.
    engine: Mapped[str] = mapped_column(String(16))
    model: Mapped[str | None] = mapped_column(String(200))
    fallback_reason: Mapped[str | None] = mapped_column(String(32))
    token_budget: Mapped[int]
    tokens_used: Mapped[int] = mapped_column(default=0)
    hints_total: Mapped[int]
    hints_given: Mapped[int] = mapped_column(default=0)
    follow_ups_given: Mapped[int] = mapped_column(default=0)
    # The highest message seq so far: each new message takes the next one.
    last_seq: Mapped[int] = mapped_column(default=0)
    question_revealed_at: Mapped[datetime]
    first_answer_at: Mapped[datetime | None]
    warned_at: Mapped[datetime | None]
    # A reply being written (one at a time per session, whichever process); stale after a while.
    replying_since: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # The feedback, written once at the end (grading claimed by one process at a time).
    grading_claimed_at: Mapped[datetime | None]
    feedback_at: Mapped[datetime | None]
    feedback_source: Mapped[str | None] = mapped_column(String(16))
    feedback: Mapped[dict[str, Any] | None] = mapped_column(JSONList)
    created_at: Mapped[datetime]


class PracticeMessage(Base):
    __tablename__ = "practice_messages"
    __table_args__ = (
        UniqueConstraint("session_id", "seq"),
        CheckConstraint("role IN ('interviewer', 'candidate', 'notice')", name="role"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("practice_sessions.session_id", ondelete="CASCADE")
    )
    seq: Mapped[int]
    role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    # MODEL or BUILTIN for the interviewer's messages; null for the candidate's and notices.
    source: Mapped[str | None] = mapped_column(String(16))
    tokens: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
