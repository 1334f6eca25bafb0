"""Who may call what: every auth, users and health route against every kind of caller.

One table, read straight from SPEC §1 and §3: the status each caller gets, acting on
their own account ("owner"), someone else's ("other") or an account that does not
exist ("missing"). Routes without a user in the path have the single target "-".
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from fastapi import FastAPI

from peerview.models.enums import Role
from tests.factories import Factory
from tests.factories import TestUser as AppUser

CALLERS = ("anonymous", "interviewee", "interviewer", "admin")

# method, path, target: status for anonymous, interviewee, interviewer, admin
MATRIX: list[tuple[str, str, str, tuple[int, int, int, int]]] = [
    ("GET", "/api/health", "-", (200, 200, 200, 200)),
    ("POST", "/api/auth/register", "-", (201, 201, 201, 201)),
    ("POST", "/api/auth/login", "-", (200, 200, 200, 200)),
    ("POST", "/api/auth/token", "-", (200, 200, 200, 200)),
    ("GET", "/api/auth/me", "-", (401, 200, 200, 200)),
    ("POST", "/api/auth/logout", "-", (401, 200, 200, 200)),
    ("PATCH", "/api/users/me", "-", (401, 200, 200, 200)),
    ("GET", "/api/users", "-", (401, 403, 403, 200)),
    ("GET", "/api/users/{user_id}", "owner", (401, 200, 200, 200)),
    ("GET", "/api/users/{user_id}", "other", (401, 200, 200, 200)),
    ("GET", "/api/users/{user_id}", "missing", (401, 404, 404, 404)),
    ("PATCH", "/api/users/{user_id}", "owner", (401, 403, 403, 200)),
    ("PATCH", "/api/users/{user_id}", "other", (401, 403, 403, 200)),
    ("PATCH", "/api/users/{user_id}", "missing", (401, 403, 403, 404)),
]

COVERED_PREFIXES = ("/api/auth", "/api/users", "/api/health")


def request_for(
    method: str, path: str, target: str, caller: AppUser | None, other: AppUser
) -> dict[str, Any]:
    """A request valid in every respect but the one under test: who is calling."""
    user_id = {
        "owner": caller.id if caller else other.id,
        "other": other.id,
        "missing": str(uuid.uuid4()),
        "-": "",
    }[target]
    kwargs: dict[str, Any] = {"method": method, "url": path.replace("{user_id}", user_id)}
    if caller is not None:
        kwargs["headers"] = caller.headers
    if path == "/api/auth/register":
        kwargs["json"] = {
            "name": "New",
            "email": f"new-{uuid.uuid4().hex}@example.com",
            "password": "a good password",
            "role": "INTERVIEWEE",
        }
    elif path == "/api/auth/login":
        kwargs["json"] = {"email": other.email, "password": other.password}
    elif path == "/api/auth/token":
        kwargs["data"] = {"username": other.email, "password": other.password}
    elif path == "/api/users/me":
        kwargs["json"] = {"name": "Renamed"}
    elif method == "PATCH":
        kwargs["json"] = {"role": "INTERVIEWER"}
    return kwargs


async def test_authorization_matrix(client: httpx.AsyncClient, factory: Factory) -> None:
    # One app for the whole table (it is the costly part to build), fresh users per cell
    # (logout and role changes must not leak from one cell into the next); every
    # mismatch is reported at once.
    mismatches = []
    for method, path, target, statuses in MATRIX:
        for caller, expected in zip(CALLERS, statuses, strict=True):
            other = await factory.user(Role.INTERVIEWEE)
            me = None if caller == "anonymous" else await factory.user(Role(caller.upper()))
            response = await client.request(**request_for(method, path, target, me, other))
            if response.status_code != expected:
                cell = f"{method} {path} [{target}] as {caller}"
                mismatches.append(f"{cell}: {response.status_code}, expected {expected}")
    assert mismatches == []


def test_matrix_lists_every_route_of_auth_users_and_health(app: FastAPI) -> None:
    # Read from the OpenAPI schema, which lists every route the app serves.
    routes = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(COVERED_PREFIXES)
        for method in operations
    }
    assert routes == {(method, path) for method, path, _, _ in MATRIX}
