"""Helpers for tests that need more than the one `app` and `client` of the fixtures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI

from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.main import close_services, create_app


@asynccontextmanager
async def extra_app(settings: Settings, clock: FakeClock) -> AsyncIterator[FastAPI]:
    """A second application instance (another server process, as far as the tests care)."""
    application = create_app(settings, clock)
    try:
        yield application
    finally:
        await close_services(application.services)


@asynccontextmanager
async def client_for(
    app: FastAPI, address: str = "127.0.0.1", port: int = 123
) -> AsyncIterator[httpx.AsyncClient]:
    """A client whose requests reach `app` from `address`, as the ASGI scope reports it."""
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(address, port))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


PROBLEM_FIELDS = {"type", "title", "status", "detail", "code"}


def assert_problem(response: httpx.Response, status: int, code: str | None = None) -> Any:
    """The response is an RFC 9457 problem with `status` (and `code`); returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body.keys() >= PROBLEM_FIELDS, body
    assert body["status"] == status
    if code is not None:
        assert body["code"] == code, body
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
