"""GET /api/health (docs/api.md §1), and how requests fail when the database is gone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from peerview.clock import FakeClock
from peerview.config import Settings
from tests.platform.apps import assert_problem, client_for, extra_app


async def test_health_is_ok_with_server_time_and_database(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    response = await client.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"status", "time", "database"}
    assert body["status"] == "ok"
    assert body["database"] == "ok"
    assert body["time"].endswith(("Z", "+00:00"))
    assert datetime.fromisoformat(body["time"]) == clock.now()


async def test_health_needs_no_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/health", headers={"Authorization": "Bearer nonsense"})
    assert response.status_code == 200


@pytest.fixture(params=["sqlite", "postgresql"])
async def unreachable_app(
    request: pytest.FixtureRequest, settings: Settings, clock: FakeClock, tmp_path: Path
) -> AsyncIterator[FastAPI]:
    url = {
        "sqlite": f"sqlite+aiosqlite:///{tmp_path}/no/such/directory/peerview.db",
        # Port 1: nothing listens there, so the connection is refused at once.
        "postgresql": "postgresql+asyncpg://postgres@127.0.0.1:1/peerview",
    }[request.param]
    async with extra_app(settings.model_copy(update={"database_url": url}), clock) as app:
        yield app


async def test_health_is_503_problem_when_the_database_is_unreachable(
    unreachable_app: FastAPI,
) -> None:
    async with client_for(unreachable_app) as c:
        response = await c.get("/api/health")
    body = assert_problem(response, 503, "DATABASE_UNAVAILABLE")
    assert body["database"] == "unreachable"
    assert "retry-after" in response.headers


async def test_requests_needing_the_database_are_503_when_it_is_unreachable(
    unreachable_app: FastAPI, clock: FakeClock
) -> None:
    from peerview.auth.service import issue_token

    token = issue_token(
        settings=unreachable_app.services.settings, user_id="someone", now=clock.now()
    )
    async with client_for(unreachable_app) as c:
        me = await c.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        logins = [
            await c.post("/api/auth/login", json={"email": "a@example.com", "password": "pw"})
            for _ in range(12)
        ]
    assert_problem(me, 503, "SERVICE_UNAVAILABLE")
    # An attempt the database could not judge is no failed login: no 429 after a dozen.
    for login in logins:
        assert_problem(login, 503, "SERVICE_UNAVAILABLE")
