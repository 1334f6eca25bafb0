"""The question bank; rows are soft-deleted so sessions keep their history."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from peerview.models.base import Base, JSONList, new_id


class Question(Base):
    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_kind", "deleted_at", "category", "difficulty", "type"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    title: Mapped[str] = mapped_column(String(200))
    prompt: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(64))
    difficulty: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(16))
    tags: Mapped[list[str]] = mapped_column(JSONList)
    hints: Mapped[list[str]] = mapped_column(JSONList)
    solution: Mapped[str] = mapped_column(Text)
    # Identifies a question of the starter bank, so seeding twice adds nothing.
    seed_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    deleted_at: Mapped[datetime | None]
    deleted_by_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
