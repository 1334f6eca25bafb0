"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import importlib.util
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.operations import Operations
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, Table, insert, inspect
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from peerview.migrate import alembic_config, upgrade
from peerview.models import Base, Feedback, InterviewRequest, InterviewSession, User
from peerview.models.base import table_of
from tests.analytics import history, recount
from tests.support.environment import in_thread


def _differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection,
        opts={
            "compare_type": True,
            "compare_server_default": True,
            "target_metadata": Base.metadata,
        },
    )
    return list(compare_metadata(context, Base.metadata))


async def _schema_differences(url: str) -> list[Any]:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_differences)
    finally:
        await engine.dispose()


async def test_migrated_database_matches_the_models(database_url: str) -> None:
    assert await _schema_differences(database_url) == []


async def test_migrated_database_is_at_the_single_head(database_url: str) -> None:
    heads = ScriptDirectory.from_config(alembic_config(database_url)).get_heads()
    assert len(heads) == 1, f"migrations branch: {heads}"
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_heads()
            )
    finally:
        await engine.dispose()
    assert tuple(current) == tuple(heads)


async def test_migrations_downgrade_to_nothing_and_upgrade_again(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'roundtrip.db'}"
    config = alembic_config(url)
    in_thread(upgrade, url)
    in_thread(command.downgrade, config, "base")

    async def tables() -> set[str]:
        engine = create_async_engine(url)
        try:
            async with engine.connect() as conn:
                return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))
        finally:
            await engine.dispose()

    assert await tables() <= {"alembic_version"}
    in_thread(upgrade, url)
    assert {t.name for t in Base.metadata.sorted_tables} <= await tables()
    assert await _schema_differences(url) == []


async def test_migrating_twice_is_harmless(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'twice.db'}"
    in_thread(upgrade, url)
    in_thread(upgrade, url)
    assert await asyncio.wait_for(_schema_differences(url), 30) == []


# --- the analytics rollups of a database that already holds rows ---------------------------

BEFORE_ROLLUPS = "0501c4ac5a9f"
ROLLUPS_MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "migrations"
    / "versions"
    / "2026_12_06_2009-analytics_rollups.py"
)


def _history() -> list[tuple[Any, list[dict[str, Any]]]]:
    now = datetime(2030, 1, 14, 10, 0, tzinfo=UTC)
    interviewers = history.users(3, "INTERVIEWER", now)
    interviewees = history.users(5, "INTERVIEWEE", now)
    requests, sessions, feedback = history.rows(
        7,
        250,
        now=now,
        interviewers=[u["id"] for u in interviewers],
        interviewees=[u["id"] for u in interviewees],
    )
    return [
        (User, interviewers + interviewees),
        (InterviewRequest, requests),
        (InterviewSession, sessions),
        (Feedback, feedback),
    ]


async def _load(conn: AsyncConnection, tables: list[tuple[Any, list[dict[str, Any]]]]) -> None:
    """Insert the rows through the columns they name only: an older schema lacks later ones
    (`interview_sessions.kind`), whose defaults the full table would add."""
    for model, rows in tables:
        full = table_of(model)
        named = set().union(*(row.keys() for row in rows))
        table = Table(full.name, MetaData(), *(c._copy() for c in full.c if c.name in named))
        await conn.execute(insert(table), rows)


async def _rollups_are_the_recount(conn: AsyncConnection) -> None:
    async def fetch(query: Any) -> Any:
        return (await conn.execute(query)).mappings().all()

    data = await recount.rows(fetch)
    assert data.requests
    found, wanted = await recount.stored(fetch, data), recount.expected(data)
    for name in wanted:
        assert found[name] == wanted[name], name


async def test_the_rollups_migration_counts_the_rows_already_there(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'rows.db'}"
    in_thread(upgrade, url, BEFORE_ROLLUPS)
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await _load(conn, _history())
        in_thread(upgrade, url)
        async with engine.connect() as conn:
            await _rollups_are_the_recount(conn)
    finally:
        await engine.dispose()


async def test_the_rollups_migration_counts_the_rows_already_there_on_postgresql(
    database_url: str,
) -> None:
    """The same on PostgreSQL, inside one transaction that is rolled back: down before the
    rollups, rows in, up again (PostgreSQL's DDL is transactional)."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only (SQLite: the test above)")
    spec = importlib.util.spec_from_file_location("rollups_migration", ROLLUPS_MIGRATION)
    assert spec is not None
    assert spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)

    def run(sync: Connection, step: Any) -> None:
        with Operations.context(MigrationContext.configure(sync)):
            step()

    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            transaction = await conn.begin()
            try:
                await conn.run_sync(run, migration.downgrade)
                await _load(conn, _history())
                await conn.run_sync(run, migration.upgrade)
                await _rollups_are_the_recount(conn)
            finally:
                await transaction.rollback()
    finally:
        await engine.dispose()
