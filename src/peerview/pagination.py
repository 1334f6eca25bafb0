"""Keyset pagination: opaque cursors and the `{items, next_cursor}` page shape."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import msgspec
from fastapi import Query
from sqlalchemy import ColumnElement, and_, or_

from peerview.db import bind
from peerview.errors import InvalidInput
from peerview.schemas import Page

DEFAULT_LIMIT = 20
MAX_LIMIT = 100

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size (1 to 100).")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="Opaque cursor from a previous page's `next_cursor`."),
]


T = TypeVar("T")


class InvalidCursor(InvalidInput):
    code = "INVALID_CURSOR"
    title = "The cursor is not one this API issued"
    field = "cursor"
    location = "query"


def encode_cursor(*values: Any) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(msgspec.json.encode(plain)).decode().rstrip("=")


def decode_cursor(cursor: str | None, *kinds: type) -> list[Any] | None:
    """The values of `cursor`, converted to `kinds`; None without a cursor."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(kinds):
            raise ValueError("shape")
        out: list[Any] = []
        for value, kind in zip(values, kinds, strict=True):
            if kind is datetime:
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise ValueError("naive")
                out.append(parsed)
            elif isinstance(value, kind):
                out.append(value)
            else:
                raise ValueError("type")
        return out
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc


def after(
    columns: tuple[ColumnElement[Any], ...], name: str = "cursor", *, descending: bool = False
) -> ColumnElement[bool]:
    """Rows strictly after a cursor in the (lexicographic) order of `columns`; the cursor's
    values are the parameters `<name>_0`, `<name>_1`, … (`cursor_params` makes them)."""
    values = [bind(f"{name}_{i}", column.type) for i, column in enumerate(columns)]
    clauses = []
    for i, column in enumerate(columns):
        equal = [c == v for c, v in zip(columns[:i], values[:i], strict=True)]
        step = column < values[i] if descending else column > values[i]
        clauses.append(and_(*equal, step))
    # Implied by the alternatives, and what lets an index on the leading column seek to the
    # cursor instead of walking every row before it.
    seek = columns[0] <= values[0] if descending else columns[0] >= values[0]
    return and_(seek, or_(*clauses))


def cursor_params(values: list[Any], name: str = "cursor") -> dict[str, Any]:
    return {f"{name}_{i}": value for i, value in enumerate(values)}


def page_of(items: list[T], limit: int, key: Callable[[T], tuple[Any, ...]]) -> Page[T]:
    """Trim the one-extra row fetched to learn whether another page exists."""
    if len(items) > limit:
        items = items[:limit]
        return Page(items=items, next_cursor=encode_cursor(*key(items[-1])))
    return Page(items=items, next_cursor=None)
