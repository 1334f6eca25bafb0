"""Shapes of first-run setup."""

from __future__ import annotations

from pydantic import EmailStr, Field

from peerview.schemas import InputModel, Output
from peerview.users.schemas import NewPassword


class SetupStatus(Output):
    setup_open: bool


class FirstAdminCreate(InputModel):
    # Compared without case, spaces or dashes (setup/codes.py); bounded like any text.
    code: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    email: EmailStr = Field(max_length=320)
    password: NewPassword
