"""Shapes shared by every feature: strict input models, and output encoded once.

Input is validated by Pydantic (`InputModel`): unknown fields refused, text trimmed, U+0000
refused. Output is a `msgspec.Struct` built by the service from rows it read itself, so it is
encoded as it is, never validated again; `respond` turns it into the HTTP answer and
`peerview.openapi` documents its schema.
"""

from __future__ import annotations

from typing import Annotated, Any, Generic, TypeVar

import msgspec
from pydantic import BaseModel, ConfigDict, field_validator
from starlette.responses import Response

T = TypeVar("T")


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


class Output(msgspec.Struct, kw_only=True):
    """Base of every response body."""


class UserRef(Output):
    id: str
    name: str


class Page(Output, Generic[T]):
    items: list[T]
    next_cursor: str | None


_encoder = msgspec.json.Encoder()

# Where OpenAPI keeps each output type's schema, and the output types it must document.
REF = "#/components/schemas/{name}"
_documented: list[Any] = []


def include(*outputs: Any) -> None:
    """Document these output types in OpenAPI (`peerview.openapi` gives each a component)."""
    for output in outputs:
        if output not in _documented:
            _documented.append(output)


def documented_outputs() -> list[Any]:
    return list(_documented)


def one_of(*outputs: type[Output]) -> Any:
    """A field holding any one of `outputs`, documented as such (msgspec documents a union
    of structs only when they carry a tag field, which these answers do not)."""
    include(*outputs)
    refs = [{"$ref": REF.format(name=output.__name__)} for output in outputs]
    return Annotated[Any, msgspec.Meta(extra_json_schema={"anyOf": refs})]


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


def to_builtins(value: Any) -> Any:
    """`value` as JSON-ready Python (dicts, lists, strings): for Socket.IO payloads."""
    return msgspec.to_builtins(value)


def respond(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The JSON answer for an output value, encoded once."""
    return Response(_encoder.encode(value), status, headers=headers, media_type="application/json")
