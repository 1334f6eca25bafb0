"""User shapes: the full `user` for oneself and admins, the public profile for everyone else."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field, StringConstraints, ValidationInfo, field_validator

from peerview.models.enums import Role
from peerview.schemas import InputModel, Output

# Passwords are taken exactly as typed: InputModel strips other strings, never these, or a
# password ending in a space would be hashed one way by one client and checked another.
NewPassword = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=8, max_length=128)
]
GivenPassword = Annotated[
    str, StringConstraints(strip_whitespace=False, min_length=1, max_length=128)
]


class UserRead(Output):
    id: str
    name: str
    email: str
    role: Role
    is_active: bool
    email_notifications: bool
    created_at: datetime


class PublicProfile(Output):
    id: str
    name: str
    role: Role


class ProfileUpdate(InputModel):
    # Every field optional: a PATCH sends only what changes.
    name: str | None = Field(default=None, min_length=1, max_length=100)
    password: NewPassword | None = None
    current_password: GivenPassword | None = Field(default=None, validate_default=True)
    email_notifications: bool | None = None

    @field_validator("current_password")
    @classmethod
    def _password_change_needs_current(cls, value: str | None, info: ValidationInfo) -> str | None:
        # A field validator rather than a model one, so the 422 names `current_password`.
        if info.data.get("password") is not None and not value:
            raise ValueError("current_password is required to change the password")
        return value


class AdminUserUpdate(InputModel):
    role: Role | None = None
    is_active: bool | None = None
