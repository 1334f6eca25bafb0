"""Interview sessions: one per accepted request, or a practice session with the AI interviewer
(no request, no human interviewer), with their lifecycle timestamps."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from peerview.models.base import Base, new_id


class InterviewSession(Base):
    __tablename__ = "interview_sessions"
    __table_args__ = (
        CheckConstraint("status IN ('SCHEDULED', 'LIVE', 'COMPLETED', 'CANCELLED')", name="status"),
        CheckConstraint("extended_minutes BETWEEN 0 AND 60", name="extension"),
        # A peer session has its request and interviewer; a practice session has neither.
        CheckConstraint(
            "(kind = 'PEER' AND request_id IS NOT NULL AND interviewer_id IS NOT NULL)"
            " OR (kind = 'PRACTICE' AND request_id IS NULL AND interviewer_id IS NULL)",
            name="kind",
        ),
        Index("ix_interview_sessions_status_hard_end", "status", "hard_end_at"),
        Index("ix_interview_sessions_status_scheduled", "status", "scheduled_at"),
        Index("ix_interview_sessions_interviewer", "interviewer_id", "scheduled_at"),
        Index("ix_interview_sessions_interviewee", "interviewee_id", "scheduled_at"),
        # Analytics: a period's sessions.
        Index("ix_interview_sessions_created", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # Unique: the backstop that makes two sessions for one request impossible.
    kind: Mapped[str] = mapped_column(String(16), server_default="PEER")
    request_id: Mapped[str | None] = mapped_column(
        ForeignKey("interview_requests.id", ondelete="CASCADE"), unique=True
    )
    interviewer_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    interviewee_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(64))
    difficulty: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[datetime]
    duration_minutes: Mapped[int]
    # scheduled_at + duration: the slot it holds in the interviewer's calendar.
    scheduled_end_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    planned_end_at: Mapped[datetime | None]
    hard_end_at: Mapped[datetime | None]
    ended_at: Mapped[datetime | None]
    end_reason: Mapped[str | None] = mapped_column(String(32))
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    extended_minutes: Mapped[int] = mapped_column(default=0)
    interviewee_joined_at: Mapped[datetime | None]
    # Bumped on every change; the iCalendar SEQUENCE.
    version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
