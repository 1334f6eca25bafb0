"""Helpers for notification tests: read them through the API and straight from the table."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from peerview.jobs.sweeper import SweepResult, sweep_once
from peerview.models import Notification
from peerview.models.base import table_of
from tests.factories import TestUser
from tests.support.sql import execute

notifications_table = table_of(Notification)


async def stored(app: FastAPI, **where: Any) -> list[dict[str, Any]]:
    """Notification rows, oldest first, filtered by column values."""
    query = select(notifications_table).order_by(
        notifications_table.c.created_at, notifications_table.c.kind, notifications_table.c.user_id
    )
    for column, value in where.items():
        query = query.where(notifications_table.c[column] == value)
    async with app.services.database.transaction(write=False) as db:
        rows = (await execute(db, query)).mappings().all()
    return [dict(r) for r in rows]


async def kinds_by_user(app: FastAPI) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for row in await stored(app):
        out.setdefault(row["user_id"], []).append(row["kind"])
    return out


async def mine(client: httpx.AsyncClient, user: TestUser, **params: Any) -> Any:
    response = await client.get("/api/notifications", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return response.json()


async def sweep(app: FastAPI) -> SweepResult:
    return await sweep_once(
        database=app.services.database,
        clock=app.services.clock,
        settings=app.services.settings,
        events=app.services.events,
        notifier=app.services.notifier,
    )
