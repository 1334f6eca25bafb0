"""The code pad of a session (docs/api.md §5.7): a Yjs document kept as a snapshot plus the
updates appended since, merged into the snapshot every CODE_COMPACT_EVERY updates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from peerview.models.base import Base


class CodeDocument(Base):
    __tablename__ = "code_documents"
    __table_args__ = (
        CheckConstraint(
            "language IN ('python', 'javascript', 'typescript', 'java', 'cpp', 'go', 'plaintext')",
            name="language",
        ),
        CheckConstraint("version >= 0", name="version"),
    )

    session_id: Mapped[str] = mapped_column(
        ForeignKey("interview_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(16))
    # A Yjs update (v1) of the whole document as of the last compaction; empty at first.
    snapshot: Mapped[bytes] = mapped_column(LargeBinary)
    # The document's text as of `version`, for GET and analytics (no Yjs needed to read it).
    text: Mapped[str] = mapped_column(Text)
    # Updates accepted so far: the document is `snapshot` plus the code_updates after it.
    version: Mapped[int]
    # The last accepted update or language change; null while nothing was written.
    updated_at: Mapped[datetime | None]


class CodeUpdate(Base):
    """An accepted Yjs update not yet merged into its document's snapshot."""

    __tablename__ = "code_updates"

    session_id: Mapped[str] = mapped_column(
        ForeignKey("code_documents.session_id", ondelete="CASCADE"), primary_key=True
    )
    # The document's version this update made: 1, 2, … per session, never reused.
    version: Mapped[int] = mapped_column(primary_key=True)
    update: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime]
