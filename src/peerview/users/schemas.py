"""User shapes: the full `user` for oneself and admins, the public profile for everyone else."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, Field, model_validator

from peerview.models.enums import Role
from peerview.schemas import InputModel, OutputModel

Name = Field(min_length=1, max_length=100)
Password = Field(min_length=8, max_length=128)


class UserRead(OutputModel):
    id: str
    name: str
    email: str
    role: Role
    is_active: bool
    email_notifications: bool
    created_at: AwareDatetime | datetime


class PublicProfile(OutputModel):
    id: str
    name: str
    role: Role


class ProfileUpdate(InputModel):
    name: str | None = Name
    password: str | None = Password
    current_password: str | None = Field(default=None, max_length=128)
    email_notifications: bool | None = None

    @model_validator(mode="after")
    def _password_change_needs_current(self) -> ProfileUpdate:
        if self.password is not None and not self.current_password:
            raise ValueError("current_password is required to change the password")
        return self


class AdminUserUpdate(InputModel):
    role: Role | None = None
    is_active: bool | None = None
