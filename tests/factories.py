"""Build test data in one line: users with tokens, straight into the app's database."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

import httpx
from argon2 import PasswordHasher, Type
from fastapi import FastAPI

from peerview import tokens
from peerview.clock import FakeClock
from peerview.models.enums import Role
from peerview.users import service as users_service

DEFAULT_PASSWORD = "correct horse battery"
LONG_LIVED = timedelta(days=365)
_counter = itertools.count(1)


@cache
def default_password_hash() -> str:
    # Computed once per run at the production parameters (m=19 MiB, t=2, p=1).
    return PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID).hash(
        DEFAULT_PASSWORD
    )


@dataclass
class TestUser:
    __test__ = False  # a data holder, not a test class

    id: str
    name: str
    email: str
    role: Role
    token: str
    password: str = DEFAULT_PASSWORD
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class Factory:
    app: FastAPI
    client: httpx.AsyncClient
    clock: FakeClock

    async def user(
        self, role: Role = Role.INTERVIEWEE, *, name: str | None = None, email: str | None = None
    ) -> TestUser:
        n = next(_counter)
        name = name or f"{role.value.title()} {n}"
        email = email or f"user{n}-{role.value.lower()}@example.com"
        async with self.app.services.database.transaction() as db:
            row = await users_service.create(
                db=db,
                now=self.clock.now(),
                name=name,
                email=email,
                password_hash=default_password_hash(),
                role=role,
            )
        token = self.token_for(row.id)
        return TestUser(id=row.id, name=name, email=email.lower(), role=role, token=token)

    def token_for(self, user_id: str, *, lifetime: timedelta = LONG_LIVED) -> str:
        """A token valid for `lifetime` from the clock's now.

        Long-lived by default, so tests can move the clock across days of a lifecycle;
        tests of expiry ask for the configured lifetime (or log in through the API).
        """
        token, _ = tokens.issue(
            secret=self.app.services.settings.signing_secret(),
            subject=user_id,
            now=self.clock.now(),
            lifetime=lifetime,
        )
        return token

    async def admin(self) -> TestUser:
        return await self.user(Role.ADMIN)

    async def interviewer(self) -> TestUser:
        return await self.user(Role.INTERVIEWER)

    async def interviewee(self) -> TestUser:
        return await self.user(Role.INTERVIEWEE)
