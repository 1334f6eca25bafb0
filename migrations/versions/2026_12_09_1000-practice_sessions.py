"""practice sessions

Revision ID: 8c41e7b2d6f3
Revises: 3f1c7d2a9e54
Create Date: 2026-12-09 10:00:00.000000

Practice sessions with the AI interviewer (docs/api.md §13): `interview_sessions.kind` (PEER or
PRACTICE; a practice session has no request and no human interviewer), `practice_sessions`
(the conversation"s state and its feedback) and `practice_messages` (the transcript).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import peerview.models.base

revision: str = "8c41e7b2d6f3"
down_revision: str | None = "3f1c7d2a9e54"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "practice_sessions",
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("interviewee_id", sa.String(length=36), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=True),
        sa.Column("fallback_reason", sa.String(length=32), nullable=True),
        sa.Column("token_budget", sa.Integer(), nullable=False),
        sa.Column("tokens_used", sa.Integer(), nullable=False),
        sa.Column("hints_total", sa.Integer(), nullable=False),
        sa.Column("hints_given", sa.Integer(), nullable=False),
        sa.Column("follow_ups_given", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.Integer(), nullable=False),
        sa.Column(
            "question_revealed_at", peerview.models.base.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column(
            "first_answer_at", peerview.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("warned_at", peerview.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("replying_since", peerview.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", peerview.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "grading_claimed_at", peerview.models.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("feedback_at", peerview.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("feedback_source", sa.String(length=16), nullable=True),
        sa.Column(
            "feedback",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", peerview.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "engine IN ('MODEL', 'BUILTIN')", name=op.f("ck_practice_sessions_engine")
        ),
        sa.CheckConstraint("tokens_used >= 0", name=op.f("ck_practice_sessions_tokens_used")),
        sa.ForeignKeyConstraint(
            ["interviewee_id"],
            ["users.id"],
            name=op.f("fk_practice_sessions_interviewee_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["interview_sessions.id"],
            name=op.f("fk_practice_sessions_session_id_interview_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_practice_sessions")),
    )
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_practice_sessions_feedback_at", ["feedback_at"], unique=False)
        batch_op.create_index(
            "ix_practice_sessions_interviewee_created",
            ["interviewee_id", "created_at"],
            unique=False,
        )

    op.create_table(
        "practice_messages",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("session_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.Column("created_at", peerview.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('interviewer', 'candidate', 'notice')", name=op.f("ck_practice_messages_role")
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["practice_sessions.session_id"],
            name=op.f("fk_practice_messages_session_id_practice_sessions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_practice_messages")),
        sa.UniqueConstraint("session_id", "seq", name=op.f("uq_practice_messages_session_id_seq")),
    )
    with op.batch_alter_table("interview_sessions", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), server_default="PEER", nullable=False)
        )
        batch_op.alter_column("request_id", existing_type=sa.VARCHAR(length=36), nullable=True)
        batch_op.alter_column("interviewer_id", existing_type=sa.VARCHAR(length=36), nullable=True)
        batch_op.create_check_constraint(
            op.f("ck_interview_sessions_kind"),
            "(kind = 'PEER' AND request_id IS NOT NULL AND interviewer_id IS NOT NULL)"
            " OR (kind = 'PRACTICE' AND request_id IS NULL AND interviewer_id IS NULL)",
        )


def downgrade() -> None:
    op.execute("DELETE FROM interview_sessions WHERE kind = 'PRACTICE'")
    with op.batch_alter_table("interview_sessions", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_interview_sessions_kind"), type_="check")
        batch_op.alter_column("interviewer_id", existing_type=sa.VARCHAR(length=36), nullable=False)
        batch_op.alter_column("request_id", existing_type=sa.VARCHAR(length=36), nullable=False)
        batch_op.drop_column("kind")

    op.drop_table("practice_messages")
    with op.batch_alter_table("practice_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_practice_sessions_interviewee_created")
        batch_op.drop_index("ix_practice_sessions_feedback_at")

    op.drop_table("practice_sessions")
