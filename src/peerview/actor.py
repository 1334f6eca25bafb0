"""The authenticated caller, as the database says right now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peerview.models.enums import Role
from peerview.tokens import TokenClaims


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    name: str
    email: str
    role: Role
    is_active: bool
    email_notifications: bool
    created_at: datetime
    token: TokenClaims

    @property
    def is_admin(self) -> bool:
        return self.role is Role.ADMIN
