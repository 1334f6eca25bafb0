"""Facts about the deployment itself, one row each, written once (docs/api.md §3.5).

`starter_bank`: the starter question bank was loaded on this database (`loaded`), or the
database already held users or questions when this table was made (`skipped`); either way it
is never loaded by itself again. `first_admin`: the first admin was made through
`POST /api/setup/admin`; its unique key is what lets only one of two concurrent setups win.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from peerview.models.base import Base


class AppMeta(Base):
    __tablename__ = "app_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
