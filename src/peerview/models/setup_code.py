"""One-time setup codes while no admin exists (docs/api.md §3.5): only their hashes are kept.

One row per serving instance (its `NODE_NAME`, or host name, and port): a restart replaces
that instance's code, and every instance's latest code works until an admin exists.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from peerview.models.base import Base


class SetupCode(Base):
    __tablename__ = "setup_codes"

    instance: Mapped[str] = mapped_column(String(200), primary_key=True)
    # The SHA-256 of the code, hex: the code itself is printed once and never stored.
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
