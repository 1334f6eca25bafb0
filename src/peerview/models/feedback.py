"""Feedback one participant leaves about the other after a completed session."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from peerview.models.base import Base, new_id

_RATING = "BETWEEN 1 AND 5"


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (
        UniqueConstraint("session_id", "author_id"),
        CheckConstraint(f"communication {_RATING}", name="communication"),
        CheckConstraint(f"problem_solving {_RATING}", name="problem_solving"),
        CheckConstraint(f"technical {_RATING}", name="technical"),
        CheckConstraint(f"overall {_RATING}", name="overall"),
        Index("ix_feedback_subject", "subject_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    session_id: Mapped[str] = mapped_column(ForeignKey("interview_sessions.id", ondelete="CASCADE"))
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    subject_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    author_role: Mapped[str] = mapped_column(String(16))
    communication: Mapped[int]
    problem_solving: Mapped[int]
    technical: Mapped[int]
    overall: Mapped[int]
    comments: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
