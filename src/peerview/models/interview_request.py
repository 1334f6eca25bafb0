"""Interview requests posted by interviewees."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from peerview.models.base import Base, new_id


class InterviewRequest(Base):
    __tablename__ = "interview_requests"
    __table_args__ = (
        CheckConstraint("status IN ('OPEN', 'ACCEPTED', 'CANCELLED', 'EXPIRED')", name="status"),
        CheckConstraint("duration_minutes BETWEEN 15 AND 180", name="duration"),
        Index("ix_interview_requests_open", "status", "scheduled_at"),
        Index("ix_interview_requests_status_expires", "status", "expires_at"),
        Index("ix_interview_requests_interviewee", "interviewee_id", "created_at"),
        # Analytics: a period's requests, and the accepted ones in order of their wait.
        Index("ix_interview_requests_created", "created_at"),
        Index("ix_interview_requests_accept_wait", "accept_wait_us", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    interviewee_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(64))
    difficulty: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(16))
    scheduled_at: Mapped[datetime]
    duration_minutes: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))
    expires_at: Mapped[datetime]
    accepted_at: Mapped[datetime | None]
    # accepted_at - created_at in whole microseconds, set with accepted_at: exact on every
    # database, and indexed, so the median wait reads only the values around the middle.
    accept_wait_us: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
