"""Helpers of the first-run tests: setup codes as `peerview serve` makes them, setup bodies."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy import func, select

from peerview.models import SetupCode, User
from peerview.models.base import table_of
from peerview.models.enums import Role
from peerview.setup import service as setup_service
from tests.support.sql import execute

SETUP = "/api/setup"
SETUP_ADMIN = "/api/setup/admin"
PASSWORD = "first admin password"

users = table_of(User)
setup_codes = table_of(SetupCode)


async def issue_code(app: FastAPI, instance: str = "test-host:5000") -> str:
    """A setup code for `instance`, made as `peerview serve` makes one at start."""
    services = app.services  # type: ignore[attr-defined]
    async with services.database.transaction() as db:
        code = await setup_service.issue_code(db=db, now=services.clock.now(), instance=instance)
    assert code is not None, "an admin exists: no code was made"
    return code


def admin_body(code: str, **overrides: Any) -> dict[str, Any]:
    body = {"code": code, "name": "Ada Admin", "email": "ada@example.com", "password": PASSWORD}
    body.update(overrides)
    return body


async def scalar(app: FastAPI, query: Any) -> Any:
    async with app.services.database.transaction(write=False) as db:  # type: ignore[attr-defined]
        return (await execute(db, query)).scalar()


async def count_admins(app: FastAPI) -> int:
    query = select(func.count()).select_from(users).where(users.c.role == Role.ADMIN.value)
    return int(await scalar(app, query))


async def count_codes(app: FastAPI) -> int:
    return int(await scalar(app, select(func.count()).select_from(setup_codes)))
