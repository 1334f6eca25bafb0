"""The ASGI application that servers load (`uvicorn peerview.asgi:app --factory`)."""

from __future__ import annotations

from starlette.types import ASGIApp

from peerview.main import create_app


def app() -> ASGIApp:
    return create_app()
