"""Fixtures: a fresh migrated database per test (SQLite or PostgreSQL), a fake clock, a client."""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import shutil
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.main import close_services, create_app
from peerview.migrate import upgrade
from peerview.models import Base
from tests.factories import Factory
from tests.realtime.support import JS_DIR
from tests.support.environment import (
    POSTGRES_URL,
    REDIS_URL,
    REQUIRE_SERVICES,
    in_thread,
    test_settings,
)

# The fixtures through which a test reaches the database under test.
DATABASE_FIXTURES = frozenset({"database_url", "migrated_template", "_postgres_cleaner"})


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In the PostgreSQL pass, leave out the tests that never reach the database under test
    (pure rules, configuration, documentation, the web app's files): they would run exactly as
    they just did in the SQLite pass. A module that reads POSTGRES_URL itself is kept whole."""
    if not POSTGRES_URL:
        return
    once: list[pytest.Item] = []
    kept: list[pytest.Item] = []
    for item in items:
        uses = DATABASE_FIXTURES.intersection(getattr(item, "fixturenames", ()))
        module = getattr(item, "module", None)
        reads_url = module is not None and hasattr(module, "POSTGRES_URL")
        (kept if uses or reads_url else once).append(item)
    if once:
        config.hook.pytest_deselected(items=once)
        items[:] = kept


# How long the event loop may take to close at the end of the run before the tasks it still
# waits for are ended.
LEFTOVER_GRACE_SECONDS = 10.0
# The stacks of those that did not, shown in the run's summary.
STUCK_TASKS: list[str] = []


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if STUCK_TASKS:
        terminalreporter.section("tasks that ignored their cancellation at the end of the run")
        for stack in STUCK_TASKS:
            terminalreporter.write_line(stack)


@pytest.fixture(scope="session", autouse=True)
async def _no_task_outlives_the_run() -> AsyncIterator[None]:
    """The run ends even if a test left a task that ignores its cancellation.

    pytest-asyncio closes the shared loop by cancelling every task left and waiting for all of
    them. A task that ignores its cancellation (a server's handler awaiting a connection of a
    server the test stopped) would hang the run there. If the loop is still open
    LEFTOVER_GRACE_SECONDS after this point, the tasks still pending are named in the run's
    summary with their stacks and marked done, so that the run ends.
    """
    yield
    loop = asyncio.get_running_loop()

    def end_stuck_tasks() -> None:
        for task in asyncio.all_tasks(loop):
            if not task.done():
                report = io.StringIO()
                task.print_stack(file=report)
                STUCK_TASKS.append(report.getvalue())
                # Task.set_result refuses; the base class's completes it (its coroutine stays
                # suspended, and is dropped with the loop).
                asyncio.Future.set_result(task, None)

    def watchdog() -> None:
        with contextlib.suppress(RuntimeError):  # the loop closed in time: nothing to do
            loop.call_soon_threadsafe(end_stuck_tasks)

    timer = threading.Timer(LEFTOVER_GRACE_SECONDS, watchdog)
    timer.daemon = True
    timer.start()


def pytest_report_header() -> str:
    return f"peerview database: {'postgresql' if POSTGRES_URL else 'sqlite'}"


async def _reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per run: a template SQLite file, or the PostgreSQL test database."""
    if POSTGRES_URL:
        in_thread(lambda: asyncio.run(_reset_postgres(POSTGRES_URL)))
        in_thread(upgrade, POSTGRES_URL)
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    in_thread(upgrade, f"sqlite+aiosqlite:///{path}")
    return str(path)


@pytest.fixture(scope="session")
async def _postgres_cleaner(migrated_template: str) -> AsyncIterator[AsyncEngine | None]:
    if not POSTGRES_URL:
        yield None
        return
    engine = create_async_engine(POSTGRES_URL, pool_size=1)
    yield engine
    await engine.dispose()


@pytest.fixture
async def database_url(
    migrated_template: str, tmp_path: Path, _postgres_cleaner: AsyncEngine | None
) -> AsyncIterator[str]:
    if POSTGRES_URL and _postgres_cleaner is not None:
        # DELETE in dependency order, in one round trip: several times faster than
        # TRUNCATE … CASCADE on tables this small.
        tables = reversed(Base.metadata.sorted_tables)
        script = "; ".join(f"DELETE FROM {t.name}" for t in tables)  # noqa: S608 (our names)
        async with _postgres_cleaner.connect() as conn:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute(script)
        yield POSTGRES_URL
        return
    path = tmp_path / "peerview.db"
    shutil.copyfile(migrated_template, path)
    yield f"sqlite+aiosqlite:///{path}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def settings(database_url: str) -> Settings:
    return test_settings(database_url)


@pytest.fixture
async def app(settings: Settings, clock: FakeClock) -> AsyncIterator[FastAPI]:
    application = create_app(settings, clock)
    yield application
    await close_services(application.services)


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def factory(app: FastAPI, client: httpx.AsyncClient, clock: FakeClock) -> Factory:
    return Factory(app=app, client=client, clock=clock)


@pytest.fixture(scope="session")
def redis_url() -> str:
    if not _redis_answers():
        if REQUIRE_SERVICES:
            pytest.fail(f"Redis at {REDIS_URL} is required but does not answer")
        pytest.skip(f"Redis at {REDIS_URL} does not answer")
    return REDIS_URL


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def node() -> str:
    """node, with the standard socket.io-client installed in tests/realtime/js."""
    node = shutil.which("node")
    installed = (JS_DIR / "node_modules" / "socket.io-client" / "package.json").exists()
    if node is None or not installed:
        reason = "node is not installed" if node is None else f"run `npm ci` in {JS_DIR}"
        if os.environ.get("PEERVIEW_REQUIRE_SERVICES") == "1":
            pytest.fail(f"the JavaScript client test needs node and its install: {reason}")
        pytest.skip(reason)
    version = json.loads((JS_DIR / "node_modules/socket.io-client/package.json").read_text())
    assert version["version"].startswith("4."), version["version"]
    return node
