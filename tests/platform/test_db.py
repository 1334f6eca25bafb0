"""The database layer: SQLite's connection settings, one transaction per request, commit first."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.types import Message, Receive, Scope, Send

from peerview.context import AnyUser
from peerview.db import Unavailable
from peerview.errors import Conflict
from peerview.models import User
from tests.factories import Factory
from tests.platform.apps import assert_problem
from tests.support.sql import execute


@pytest.fixture
def on_sqlite(app: FastAPI) -> None:
    if app.services.database.dialect != "sqlite":
        pytest.skip("SQLite connection settings")


@pytest.fixture
def statements(app: FastAPI) -> Iterator[list[tuple[str, bool]]]:
    """Every statement the app runs, with whether SQLite was inside a transaction."""
    seen: list[tuple[str, bool]] = []

    def record(statement: str, in_transaction: bool) -> None:
        seen.append((" ".join(statement.split()), in_transaction))

    listeners = app.services.database.listeners
    listeners.append(record)
    yield seen
    listeners.remove(record)


async def pragma(app: FastAPI, name: str) -> Any:
    async with app.services.database.acquire() as conn:
        return conn.raw.execute(f"PRAGMA {name}").fetchone()[0]


@pytest.mark.usefixtures("on_sqlite")
async def test_sqlite_uses_write_ahead_logging(app: FastAPI) -> None:
    assert str(await pragma(app, "journal_mode")).lower() == "wal"


@pytest.mark.usefixtures("on_sqlite")
async def test_sqlite_enforces_foreign_keys(app: FastAPI) -> None:
    assert await pragma(app, "foreign_keys") == 1


@pytest.mark.usefixtures("on_sqlite")
async def test_sqlite_waits_for_locks_instead_of_failing(app: FastAPI) -> None:
    assert await pragma(app, "busy_timeout") > 0


@pytest.mark.usefixtures("on_sqlite")
async def test_post_request_takes_the_write_lock_after_the_token_check(
    client: httpx.AsyncClient, factory: Factory, statements: list[tuple[str, bool]]
) -> None:
    user = await factory.user()
    statements.clear()
    response = await client.post("/api/auth/logout", headers=user.headers)
    assert response.status_code == 200
    begins = [s for s, _ in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN IMMEDIATE"]
    # The token check reads outside the transaction, so it holds no write lock; the write
    # itself is inside it.
    token_check, *rest = statements
    assert token_check[0].startswith("SELECT users.id")
    assert not token_check[1]
    assert rest[0][0] == "BEGIN IMMEDIATE"
    assert all(inside for sql, inside in rest[1:] if not sql.startswith("COMMIT")), rest


@pytest.mark.usefixtures("on_sqlite")
async def test_get_request_reads_inside_one_transaction_after_the_token_check(
    client: httpx.AsyncClient, factory: Factory, statements: list[tuple[str, bool]]
) -> None:
    admin = await factory.admin()
    statements.clear()
    response = await client.get("/api/users", headers=admin.headers)
    assert response.status_code == 200
    begins = [s for s, _ in statements if s.startswith("BEGIN")]
    assert begins == ["BEGIN DEFERRED"]
    token_check, *selects = [(s, inside) for s, inside in statements if s.startswith("SELECT")]
    assert not token_check[1]
    assert selects  # the page
    assert all(inside for _, inside in selects), selects


@pytest.mark.usefixtures("on_sqlite")
async def test_login_reads_inside_a_transaction_that_takes_no_write_lock(
    client: httpx.AsyncClient, factory: Factory, statements: list[tuple[str, bool]]
) -> None:
    user = await factory.user()
    statements.clear()
    response = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    assert response.status_code == 200
    assert [s for s, _ in statements if s.startswith("BEGIN")] == ["BEGIN DEFERRED"]
    assert all(inside for s, inside in statements if s.startswith("SELECT"))


async def test_write_is_committed_before_the_response_starts(
    app: FastAPI, factory: Factory, database_url: str
) -> None:
    """Seen from another connection at the moment the first response byte leaves."""
    user = await factory.user()
    observer = create_async_engine(database_url)  # a connection of its own
    seen_at_response: list[str] = []

    async def watching(scope: Scope, receive: Receive, send: Send) -> None:
        async def send_and_look(message: Message) -> None:
            if message["type"] == "http.response.start":
                async with observer.connect() as conn:
                    query = select(User.name).where(User.id == user.id)
                    seen_at_response.append((await conn.execute(query)).scalar_one())
            await send(message)

        await app(scope, receive, send_and_look)

    transport = httpx.ASGITransport(app=watching)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
            response = await c.patch(
                "/api/users/me", headers=user.headers, json={"name": "Committed"}
            )
    finally:
        await observer.dispose()
    assert response.status_code == 200
    assert seen_at_response == ["Committed"]


async def test_request_that_fails_after_writing_leaves_no_trace(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()

    async def write_then_fail(ctx: AnyUser) -> None:
        await execute(ctx.db, update(User).where(User.id == user.id).values(name="Half done"))
        raise Conflict("changed my mind")

    app.add_api_route("/api/test-write-then-fail", write_then_fail, methods=["POST"])
    response = await client.post("/api/test-write-then-fail", headers=user.headers)
    assert response.status_code == 409
    me = await client.get("/api/auth/me", headers=user.headers)
    assert me.json()["name"] == user.name


async def test_a_write_whose_commit_fails_answers_503_and_keeps_nothing(
    app: FastAPI, client: httpx.AsyncClient, factory: Factory
) -> None:
    """The route answered, but its transaction could not commit: that answer never leaves."""
    user = await factory.user()

    async def rename(ctx: AnyUser) -> dict[str, str]:
        await execute(ctx.db, update(User).where(User.id == user.id).values(name="Never kept"))
        return {"renamed": "yes"}

    def refuse_commit(statement: str, _in_transaction: bool) -> None:
        if statement == "COMMIT":
            raise Unavailable("the database went away as it committed")

    app.add_api_route("/api/test-commit-fails", rename, methods=["POST"])
    listeners = app.services.database.listeners
    listeners.append(refuse_commit)
    try:
        response = await client.post("/api/test-commit-fails", headers=user.headers)
    finally:
        listeners.remove(refuse_commit)
    assert_problem(response, 503, "SERVICE_UNAVAILABLE")
    assert "renamed" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    me = await client.get("/api/auth/me", headers=user.headers)
    assert me.json()["name"] == user.name
