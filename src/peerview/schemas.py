"""Schema building blocks shared by every feature."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


class InputModel(BaseModel):
    """Request bodies: unknown fields are refused, so a client can never set what it must not."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*")
    @classmethod
    def _no_nul_character(cls, value: Any) -> Any:
        # U+0000 has no use in any text of Peerview, and PostgreSQL cannot store it: refused
        # here, naming the field, on every database alike.
        texts = value if isinstance(value, list) else [value]
        if any(isinstance(text, str) and "\x00" in text for text in texts):
            raise ValueError("must not contain the NUL character (U+0000)")
        return value


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class UserRef(OutputModel):
    id: str
    name: str
