"""`peerview migrate` and `peerview create-admin` (docs/api.md §11)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, inspect, select
from sqlalchemy.ext.asyncio import create_async_engine

from peerview import cli
from peerview.analytics.rollup_repository import RECOUNTS
from peerview.clock import FakeClock
from peerview.config import Settings, get_settings
from peerview.models import Base, Feedback, InterviewRequest, InterviewSession, User
from peerview.models.base import table_of
from tests.analytics import history, recount
from tests.platform.apps import client_for, extra_app
from tests.support.environment import test_settings

ADMIN_PASSWORD = "admin password 1"


@pytest.fixture
def cli_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A fresh SQLite file named by DATABASE_URL, as an operator would set it."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def run_cli(*argv: str) -> int:
    # The CLI runs its own event loops (asyncio.run), so it runs off the test's.
    return await asyncio.to_thread(cli.main, list(argv))


async def table_names(url: str) -> set[str]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
    finally:
        await engine.dispose()


async def count_users(url: str) -> int:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(User))).scalar_one())
    finally:
        await engine.dispose()


async def test_migrate_creates_every_table_in_a_fresh_database(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli("migrate") == 0
    tables = await table_names(cli_database)
    assert {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"} <= tables
    assert "up to date" in capsys.readouterr().out


async def test_create_admin_makes_an_admin_who_can_log_in(
    cli_database: str, clock: FakeClock
) -> None:
    assert await run_cli("migrate") == 0
    code = await run_cli(
        "create-admin",
        "--email",
        "Root@Example.com",
        "--name",
        "Root",
        "--password",
        ADMIN_PASSWORD,
    )
    assert code == 0
    settings = test_settings(cli_database)
    async with extra_app(settings, clock) as app, client_for(app) as c:
        response = await c.post(
            "/api/auth/login", json={"email": "root@example.com", "password": ADMIN_PASSWORD}
        )
        assert response.status_code == 200, response.text
        assert response.json()["user"]["role"] == "ADMIN"
        token = response.json()["access_token"]
        listed = await c.get("/api/users", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200


async def test_create_admin_with_a_taken_email_exits_2(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli("migrate") == 0
    args = ("create-admin", "--name", "Root", "--password", ADMIN_PASSWORD)
    assert await run_cli(*args, "--email", "root@example.com") == 0
    capsys.readouterr()
    assert await run_cli(*args, "--email", "ROOT@example.com") == 2
    assert "already exists" in capsys.readouterr().err
    assert await count_users(cli_database) == 1


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("root@example.com", "short"),
        ("root@example.com", "p" * 129),
        ("not-an-email", "long enough"),
    ],
    ids=["short-password", "long-password", "bad-email"],
)
async def test_create_admin_with_invalid_input_exits_2_and_creates_nobody(
    cli_database: str, capsys: pytest.CaptureFixture[str], email: str, password: str
) -> None:
    assert await run_cli("migrate") == 0
    code = await run_cli("create-admin", "--email", email, "--name", "Root", "--password", password)
    assert code == 2
    assert "error" in capsys.readouterr().err
    assert await count_users(cli_database) == 0


async def test_create_admin_reads_the_password_from_stdin_when_not_a_terminal(
    cli_database: str, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    assert await run_cli("migrate") == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(ADMIN_PASSWORD + "\n"))
    assert await run_cli("create-admin", "--email", "root@example.com", "--name", "Root") == 0
    settings = test_settings(cli_database)
    async with extra_app(settings, clock) as app, client_for(app) as c:
        response = await c.post(
            "/api/auth/login", json={"email": "root@example.com", "password": ADMIN_PASSWORD}
        )
    assert response.status_code == 200


async def test_configuration_error_exits_2(
    cli_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PEERVIEW_ENV", "production")
    get_settings.cache_clear()
    assert await run_cli("migrate") == 2
    assert "JWT_SECRET" in capsys.readouterr().err


async def test_invalid_trusted_proxies_exit_2_naming_the_setting(
    cli_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")
    get_settings.cache_clear()
    assert await run_cli("serve") == 2
    error = capsys.readouterr().err
    assert error.startswith("Configuration error:")
    assert "TRUSTED_PROXIES" in error
    assert "'proxy.internal'" in error


async def test_create_admin_stores_values_as_registration_would(
    cli_database: str, clock: FakeClock
) -> None:
    assert await run_cli("migrate") == 0
    code = await run_cli(
        "create-admin",
        "--email",
        "Root@Example.com",
        "--name",
        "  Root  ",
        "--password",
        ADMIN_PASSWORD,
    )
    assert code == 0
    engine = create_async_engine(cli_database)
    try:
        async with engine.connect() as conn:
            row = (await conn.execute(select(User.name, User.email, User.role))).one()
    finally:
        await engine.dispose()
    assert tuple(row) == ("Root", "root@example.com", "ADMIN")


def test_serve_keeps_connections_stops_in_time_and_replaces_workers(
    cli_database: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import signal

    from granian import Granian
    from granian.server import common

    served: list[Granian] = []
    monkeypatch.setattr(Granian, "serve", lambda self, *_, **__: served.append(self))
    # Leave pytest's signal handlers and logging alone.
    monkeypatch.setattr(signal, "signal", lambda *_: None)
    monkeypatch.setattr(common, "configure_logging", lambda *_: None)
    assert cli.main(["serve", "--no-migrate", "--port", "5999", "--workers", "2"]) == 0
    printed = capsys.readouterr()
    assert "Peerview listening on http://127.0.0.1:5999" in printed.out
    assert "2 workers without REDIS_URL" in printed.err
    [server] = served
    assert (server.bind_addr, server.bind_port, server.workers) == ("127.0.0.1", 5999, 2)
    # Socket.IO's transports: WebSocket upgrades, and the ASGI lifespan runs the sweeper.
    assert server.websockets
    assert server.interface == "asgi"
    # An idle connection outlives a client's or proxy's usual 60 s (granian closes one that
    # has not sent a whole request head within this time), so the server never closes one
    # while a client starts a request on it.
    assert server.http1_settings is not None
    assert server.http1_settings.header_read_timeout > 60_000
    # A stop never takes longer than 20 s, whatever a worker is still doing.
    assert server.workers_kill_timeout == 20
    # A worker that dies is replaced; granian has no start-up health check that would kill a
    # worker still starting on a busy host.
    assert server.respawn_failed_workers
    # peerview.access is the access log: granian's own would log query strings.
    assert not server.log_access


@pytest.mark.parametrize("workers", [1, 3])
def test_serve_gives_several_workers_a_private_directory_for_their_sockets(
    cli_database: str, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    import os
    import signal
    import stat

    from granian import Granian
    from granian.server import common

    from peerview.realtime.routing import WORKER_SOCKETS_ENV

    seen: list[str | None] = []

    def serve(*_: Any, **__: Any) -> None:
        directory = os.environ.get(WORKER_SOCKETS_ENV)
        seen.append(directory)
        if directory is not None:
            assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700

    monkeypatch.setattr(Granian, "serve", serve)
    monkeypatch.setattr(signal, "signal", lambda *_: None)
    monkeypatch.setattr(common, "configure_logging", lambda *_: None)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    assert cli.main(["serve", "--no-migrate", "--workers", str(workers)]) == 0
    [directory] = seen
    if workers == 1:
        assert directory is None  # alone, a worker passes nothing on
    else:
        assert directory is not None
        assert not os.path.exists(directory)  # removed once the server stopped
    assert WORKER_SOCKETS_ENV not in os.environ


async def test_analytics_rebuild_recounts_every_rollup_and_shows_its_progress(
    cli_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert await run_cli("migrate") == 0
    now = datetime(2030, 1, 14, 10, 0, tzinfo=UTC)
    interviewers = history.users(2, "INTERVIEWER", now)
    interviewees = history.users(3, "INTERVIEWEE", now)
    requests, sessions, feedback = history.rows(
        11,
        120,
        now=now,
        interviewers=[u["id"] for u in interviewers],
        interviewees=[u["id"] for u in interviewees],
    )
    engine = create_async_engine(cli_database)
    try:
        # Rows written behind the application's back: no rollup counts them yet.
        async with engine.begin() as conn:
            for model, rows in (
                (User, interviewers + interviewees),
                (InterviewRequest, requests),
                (InterviewSession, sessions),
                (Feedback, feedback),
            ):
                await conn.execute(insert(table_of(model)), rows)
        capsys.readouterr()
        assert await run_cli("analytics", "rebuild") == 0
        out = capsys.readouterr().out
        steps = len(RECOUNTS) + 1
        progress = [line for line in out.splitlines() if line.startswith("analytics rebuild:")]
        assert [line.split()[2] for line in progress] == [
            f"{n}/{steps}" for n in range(1, steps + 1)
        ]
        assert "rebuilt" in out.splitlines()[-1]
        async with engine.connect() as conn:

            async def fetch(query: Any) -> Any:
                return (await conn.execute(query)).mappings().all()

            data = await recount.rows(fetch)
            found, wanted = await recount.stored(fetch, data), recount.expected(data)
            assert found == wanted
    finally:
        await engine.dispose()
