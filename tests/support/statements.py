"""The statements an application runs, as its database's listeners see them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import FastAPI


@contextmanager
def counting_statements(app: FastAPI) -> Iterator[list[str]]:
    """Every statement the app runs inside the block."""
    statements: list[str] = []

    def count(statement: str, _in_transaction: bool) -> None:
        statements.append(statement)

    listeners = app.services.database.listeners
    listeners.append(count)
    try:
        yield statements
    finally:
        listeners.remove(count)
