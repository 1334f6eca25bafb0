"""code pad

Revision ID: 3f1c7d2a9e54
Revises: 6a9b826d030c
Create Date: 2026-12-08 10:00:00.000000

The code pad of each session (docs/api.md §5.7): `code_documents` (language, snapshot, text,
version) and `code_updates` (the Yjs updates appended since the last compaction).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from peerview.models.base import UTCDateTime

revision: str = "3f1c7d2a9e54"
down_revision: str | None = "6a9b826d030c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "code_documents",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("snapshot", sa.LargeBinary(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=True),
        sa.CheckConstraint(
            "language IN ('python', 'javascript', 'typescript', 'java', 'cpp', 'go', 'plaintext')",
            name=op.f("ck_code_documents_language"),
        ),
        sa.CheckConstraint("version >= 0", name=op.f("ck_code_documents_version")),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["interview_sessions.id"],
            name=op.f("fk_code_documents_session_id_interview_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_code_documents")),
    )
    op.create_table(
        "code_updates",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("update", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["code_documents.session_id"],
            name=op.f("fk_code_updates_session_id_code_documents"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", "version", name=op.f("pk_code_updates")),
    )


def downgrade() -> None:
    op.drop_table("code_updates")
    op.drop_table("code_documents")
