"""The fuzzing target: Peerview over its own fresh database, a user of every role, seed data."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.transport import Response
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from starlette.types import Receive, Scope, Send

from peerview import tokens
from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.db import create_database
from peerview.main import create_app
from peerview.models import Base
from peerview.models.enums import Role
from peerview.setup import first_run
from peerview.users import service as users_service
from tests.factories import default_password_hash
from tests.support import environment
from tests.support.environment import POSTGRES_URL, TEST_SECRET, test_settings

# Examples per operation (and scenarios of the stateful test): 50 in `make test`, more in a soak.
FUZZ_EXAMPLES = int(os.environ.get("PEERVIEW_FUZZ_EXAMPLES", "50"))
ROLES = (Role.ADMIN, Role.INTERVIEWER, Role.INTERVIEWEE)
# The users made straight into the database; the admin is made through first-run setup.
MADE_DIRECTLY = (Role.INTERVIEWER, Role.INTERVIEWEE)
LONG_LIVED = timedelta(days=365)
# A session must be startable while the fake clock stands still: requests close 3 minutes
# before they start, and the seeded ones start 10 minutes from now.
EXPIRY_BUFFER_HOURS = 0.05
SOON = timedelta(minutes=10)

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "cache-control": "no-store",
    "content-security-policy": "frame-ancestors 'none'",
}


# An argon2 hash as argon2-cffi encodes it; the bare word "$argon2" may well be fuzzed input
# that an answer echoes (a question titled so), which is no leak.
ARGON2_HASH = re.compile(
    r"\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+"
)


def no_password_hash(ctx: Any, response: Response, case: Any) -> bool | None:
    """No answer ever contains a password hash, whoever asks and whatever went wrong."""
    assert not ARGON2_HASH.search(response.text), "a password hash in the response body"
    return True


def security_headers(ctx: Any, response: Response, case: Any) -> bool | None:
    """Every API response, whatever its status, carries Peerview's security headers."""
    if not case.path.startswith("/api"):
        return None
    for name, value in SECURITY_HEADERS.items():
        sent = response.headers.get(name, [])
        assert sent == [value], f"{name}: {sent!r} instead of {value!r}"
    return True


CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    ignored_auth,
    use_after_free,
    security_headers,
    no_password_hash,
]


def fuzz_settings(**overrides: Any) -> settings:
    """Hypothesis settings: reproducible runs, no deadline, no health check on slow data."""
    return settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
        **overrides,
    )


def in_thread(make: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run a coroutine to completion on a loop of its own (the test's loop may be in use)."""
    return environment.in_thread(asyncio.run, make())


def fresh_database(migrated_template: str, directory: Path) -> str:
    """An empty migrated database: a copy of the SQLite template, or PostgreSQL truncated."""
    if POSTGRES_URL:

        async def truncate() -> None:
            engine = create_async_engine(POSTGRES_URL)
            tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
            async with engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {tables} CASCADE"))
            await engine.dispose()

        in_thread(truncate)
        return POSTGRES_URL
    path = directory / "peerview.db"
    shutil.copyfile(migrated_template, path)
    return f"sqlite+aiosqlite:///{path}"


@dataclass
class FuzzTarget:
    """A running app, its OpenAPI schema, a user of each role, and the ids that exist."""

    app: FastAPI
    schema: Any
    clock: FakeClock
    user_ids: dict[Role, str]
    known_ids: dict[str, list[str]] = field(default_factory=dict)
    # When set, every call made through `call` passes the contract checks.
    validate: bool = False
    # The operations ("POST /api/setup/admin") that answered a success under the contract
    # checks while the target was built, which no later call can answer again.
    validated_while_built: set[str] = field(default_factory=set)

    def token(self, role: Role) -> str:
        """A new token per call: a fuzzed logout revokes only the token it was sent with."""
        token, _ = tokens.issue(
            secret=TEST_SECRET,
            subject=self.user_ids[role],
            now=self.clock.now(),
            lifetime=LONG_LIVED,
        )
        return token

    def headers(self, role: Role) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role)}"}

    def call(
        self,
        method: str,
        path: str,
        role: Role | None,
        *,
        body: Any = None,
        path_parameters: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        media_type: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        operation = self.schema[path][method]
        fields: dict[str, Any] = {"path_parameters": path_parameters, "query": query}
        if body is not None:
            fields.update(body=body, media_type=media_type)
        case = operation.Case(**fields)
        sent = headers or (self.headers(role) if role else None)
        response = case.call(headers=sent)
        if self.validate:
            case.validate_response(response, checks=CHECKS, headers=sent)
        return response

    def ok(self, method: str, path: str, role: Role | None, **kwargs: Any) -> Any:
        response = self.call(method, path, role, **kwargs)
        assert response.status_code < 300, (method, path, response.status_code, response.text)
        content_type = response.headers.get("content-type", [""])[0]
        return response.json() if "json" in content_type else response.text


def build_target(database_url: str) -> FuzzTarget:
    clock = FakeClock()
    app_settings = test_settings(
        database_url,
        request_expiry_buffer_hours=EXPIRY_BUFFER_HOURS,
        # Fuzzing writes thousands of times as one user at a clock that stands still.
        write_rate_limit_per_minute=0,
        write_rate_limit_admin_per_minute=0,
    )
    user_ids = in_thread(lambda: _create_users(app_settings, clock))
    code = in_thread(
        lambda: first_run.new_setup_code(app_settings, instance="fuzz:5000", clock=clock)
    )
    app = create_app(app_settings, clock)
    schema = schemathesis.openapi.from_asgi("/openapi.json", FuzzedApp(app))
    target = FuzzTarget(app=app, schema=schema, clock=clock, user_ids=user_ids)
    _first_admin(target, code)
    _seed(target)
    return target


def _first_admin(target: FuzzTarget, code: str) -> None:
    """The admin is made as on a first run, through `POST /api/setup/admin`, whose success
    can be answered only once per database: checked against the contract here."""
    target.validate = True
    try:
        made = target.ok(
            "POST",
            "/api/setup/admin",
            None,
            body={
                "code": code,
                "name": "Fuzz Admin",
                "email": "fuzz-admin@example.com",
                "password": "correct horse battery",
            },
        )
    finally:
        target.validate = False
    target.user_ids[Role.ADMIN] = made["user"]["id"]
    target.validated_while_built.add("POST /api/setup/admin")


def close_target(target: FuzzTarget) -> None:
    # Ends the lifespan (so the pool is emptied on schemathesis' loop), then the hash pool.
    asgi.shutdown_lifespans()
    target.app.services.passwords.close()


class FuzzedApp:
    """The app as schemathesis drives it, with a lifespan that may end and start again.

    Schemathesis runs requests on an event loop of its own and ends the application's
    lifespan after every test; the app's own lifespan closes resources for good. Here a
    shutdown only empties the connection pool, on the loop that filled it, and the target's
    teardown closes the rest.
    """

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.app.services.database.close()
                await send({"type": "lifespan.shutdown.complete"})
                return


async def _create_users(app_settings: Settings, clock: FakeClock) -> dict[Role, str]:
    database = create_database(app_settings)
    ids: dict[Role, str] = {}
    try:
        for role in MADE_DIRECTLY:
            async with database.transaction() as db:
                row = await users_service.create(
                    db=db,
                    now=clock.now(),
                    name=f"Fuzz {role.value.title()}",
                    email=f"fuzz-{role.value.lower()}@example.com",
                    password_hash=default_password_hash(),
                    role=role,
                )
            ids[role] = row.id
    finally:
        await database.close()
    return ids


def _seed(target: FuzzTarget) -> None:
    """Resources in every state, so fuzzed ids that exist reach the rules behind the lookups."""
    now = target.clock.now()

    def request(scheduled_in: timedelta) -> dict[str, Any]:
        body = {
            "category": "arrays",
            "difficulty": "MEDIUM",
            "type": "CODING",
            "scheduled_at": (now + scheduled_in).isoformat(),
            "duration_minutes": 30,
        }
        created: dict[str, Any] = target.ok(
            "POST", "/api/interview-requests", Role.INTERVIEWEE, body=body
        )
        return created

    def accept(request_id: str) -> str:
        session = target.ok(
            "POST",
            "/api/interview-requests/{request_id}/accept",
            Role.INTERVIEWER,
            path_parameters={"request_id": request_id},
        )
        return str(session["id"])

    def session_action(action: str, session_id: str) -> None:
        target.ok(
            "POST",
            f"/api/interview-sessions/{{session_id}}/{action}",
            Role.INTERVIEWER,
            path_parameters={"session_id": session_id},
        )

    questions = []
    for n in range(3):
        body = {
            "title": f"Question {n}",
            "prompt": "Reverse a list.",
            "category": "arrays",
            "difficulty": "MEDIUM",
            "type": "CODING",
            "tags": ["lists"],
            "hints": ["Two pointers"],
            "solution": "Swap ends.",
        }
        questions.append(target.ok("POST", "/api/questions", Role.ADMIN, body=body)["id"])

    requests = [request(SOON) for _ in range(3)] + [request(timedelta(days=3))]
    completed = accept(requests[0]["id"])
    session_action("start", completed)
    target.ok(
        "POST",
        "/api/interview-sessions/{session_id}/questions",
        Role.INTERVIEWER,
        path_parameters={"session_id": completed},
        body={"question_id": questions[0]},
    )
    session_action("end", completed)
    target.ok(
        "POST",
        "/api/feedback",
        Role.INTERVIEWER,
        body={
            "session_id": completed,
            "ratings": {"communication": 4, "problem_solving": 3, "technical": 4, "overall": 4},
            "comments": "Clear thinking.",
        },
    )
    live = accept(requests[1]["id"])
    session_action("start", live)
    scheduled = accept(requests[3]["id"])
    target.ok(
        "POST",
        "/api/interview-requests/{request_id}/cancel",
        Role.INTERVIEWEE,
        path_parameters={"request_id": requests[2]["id"]},
    )
    cancelled_request = request(timedelta(days=5))
    cancelled = accept(cancelled_request["id"])
    target.ok(
        "POST",
        "/api/interview-sessions/{session_id}/cancel",
        Role.INTERVIEWEE,
        path_parameters={"session_id": cancelled},
        body={"reason": "Clash"},
    )
    open_request = request(timedelta(days=7))
    target.ok(
        "DELETE",
        "/api/questions/{question_id}",
        Role.ADMIN,
        path_parameters={"question_id": questions[2]},
    )
    notifications = target.ok("GET", "/api/notifications", Role.INTERVIEWEE)["items"]

    # Users an admin may fuzz freely: changing the role or activity of the fuzzing users
    # themselves would only turn the rest of the run into 401s and 403s.
    bystanders = []
    for role in ("INTERVIEWER", "INTERVIEWEE"):
        registered = target.ok(
            "POST",
            "/api/auth/register",
            None,
            body={
                "name": f"Bystander {role.title()}",
                "email": f"bystander-{role.lower()}@example.com",
                "password": "correct horse battery",
                "role": role,
            },
        )
        bystanders.append(registered["user"]["id"])

    target.known_ids = {
        "user_id": bystanders,
        "question_id": questions,
        "request_id": [r["id"] for r in requests] + [cancelled_request["id"], open_request["id"]],
        "session_id": [completed, live, scheduled, cancelled],
        "notification_id": [n["id"] for n in notifications],
    }
