"""first run

Revision ID: 6a9b826d030c
Revises: b267b5c5d930
Create Date: 2026-12-07 03:30:09.193779

The facts a first run records (`app_meta`) and the hashes of the one-time setup codes
(`setup_codes`), docs/api.md §3.5. A database that already holds users or questions is not a
first run: the starter bank is marked `skipped` here, so upgrading an existing deployment
never loads it by itself (nor brings back starter questions an admin deleted for good).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from peerview.models.base import UTCDateTime

revision: str = "6a9b826d030c"
down_revision: str | None = "b267b5c5d930"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    app_meta = op.create_table(
        "app_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_app_meta")),
    )
    op.create_table(
        "setup_codes",
        sa.Column("instance", sa.String(length=200), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("instance", name=op.f("pk_setup_codes")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_setup_codes_code_hash")),
    )
    in_use = sa.select(
        sa.or_(
            sa.exists().select_from(sa.table("users")),
            sa.exists().select_from(sa.table("questions")),
        )
    )
    if op.get_bind().execute(in_use).scalar():
        assert app_meta is not None
        op.bulk_insert(
            app_meta,
            [{"key": "starter_bank", "value": "skipped", "created_at": datetime.now(UTC)}],
        )


def downgrade() -> None:
    op.drop_table("setup_codes")
    op.drop_table("app_meta")
