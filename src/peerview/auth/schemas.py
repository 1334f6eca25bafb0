"""Shapes of registration, login and the token answer."""

from __future__ import annotations

from typing import Literal

from pydantic import EmailStr, Field

from peerview.models.enums import Role
from peerview.schemas import InputModel, Output
from peerview.users.schemas import GivenPassword, NewPassword, UserRead


class RegisterIn(InputModel):
    name: str = Field(min_length=1, max_length=100)
    email: EmailStr = Field(max_length=320)
    password: NewPassword
    role: Role


class LoginIn(InputModel):
    email: str = Field(min_length=1, max_length=320)
    password: GivenPassword


class TokenOut(Output):
    user: UserRead
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth2 token type)


class OAuth2TokenOut(Output):
    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (the OAuth2 token type)


class LogoutOut(Output):
    revoked: bool
