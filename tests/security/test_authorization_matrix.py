"""Who may do what: every HTTP route and every Socket.IO event of Peerview, from one table each.

A row is (route, caller, relation to the resource, resource) → expected outcome, read from
docs/api.md §3-§10 and its order of checks (§1.5): no or a bad token → 401, a role the route does
not name → 403, a resource the caller may not see → 404 (exactly as if it were missing), and
the success status otherwise. Callers: `anonymous`, `bad_token`, and one user per role.
Relations: `owner` (the request's interviewee, the notification's user, the user themself),
`participant` (a session's interviewee or interviewer; an accepted request's interviewer),
`other` (no tie to the resource; admins are always `other`), `missing` (an id that does not
exist), `deleted` (a soft-deleted bank question) and `-` (a route without a resource).

Every refusal is a problem document that names nothing of the resource: neither its ids nor
its people's names and e-mails, nor its notes, comments, titles or solutions. A refusal of a
hidden resource is byte for byte the refusal of a missing one, and a refused write leaves the
database as it was. Some successes must still hold something back (another user's e-mail,
a question's solution from an interviewee, sealed feedback): those rows name what.

The rows share one world built once per module; a row whose success changes its resource
(start, end, cancel, delete…) gets a fresh one. The coverage test fails as soon as a route or
a Socket.IO handler exists without a row.
"""

from __future__ import annotations

import asyncio
import base64
import json
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

import httpx
import pytest
import socketio
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from pycrdt import Doc, Text
from sqlalchemy.ext.asyncio import AsyncEngine

from peerview.clock import FakeClock
from peerview.main import create_app
from peerview.models import Base
from peerview.models.enums import Role
from tests.factories import Factory, TestUser
from tests.flow import Flow, accepted, completed, live, post_request
from tests.platform.apps import assert_problem
from tests.realtime.support import Peer, serve, silently_revoke
from tests.security.support import QUESTION, RATINGS, snapshot
from tests.support.environment import POSTGRES_URL, test_settings

MISSING = "00000000-0000-0000-0000-000000000000"
ROLES = ("interviewee", "interviewer", "admin")
Outcome = int | tuple[int, str]

UNAUTHENTICATED: dict[str, Outcome] = {
    "anonymous": (401, "NOT_AUTHENTICATED"),
    "bad_token": (401, "INVALID_TOKEN"),
}

FORBIDDEN = (403, "FORBIDDEN")
NOT_INTERVIEWER = (403, "NOT_SESSION_INTERVIEWER")
NO_REQUEST = (404, "REQUEST_NOT_FOUND")
NO_SESSION = (404, "SESSION_NOT_FOUND")
NO_QUESTION = (404, "QUESTION_NOT_FOUND")
NO_NOTIFICATION = (404, "NOTIFICATION_NOT_FOUND")
NO_USER = (404, "USER_NOT_FOUND")
# The category of the practice sessions' questions: no other question has it.
PRACTICE_TOPIC = "practice-topic"


@dataclass(frozen=True)
class Route:
    """One route on one kind of resource: the outcome for each `caller/relation` cell.

    Routes that need authentication get the two 401 cells added. `fresh` cells get a resource
    (and with `fresh_caller`, a caller) of their own, made by the target's maker. `sealed`
    cells succeed but must not show the target's sealed strings, which `shows` cells do see.
    """

    method: str
    path: str  # the route's template, as routed
    target: str  # a key of World.targets / MAKERS, or "-"
    cells: dict[str, Outcome]
    public: bool = False
    query: str = ""
    fresh: frozenset[str] = frozenset()
    fresh_caller: bool = False
    sealed: frozenset[str] = frozenset()
    shows: frozenset[str] = frozenset()  # cells whose success does show the sealed strings


def status_of(outcome: Outcome) -> int:
    return outcome if isinstance(outcome, int) else outcome[0]


def every(status: Outcome, relation: str = "-") -> dict[str, Outcome]:
    return {f"{role}/{relation}": status for role in ROLES}


# fmt: off
TABLE: list[Route] = [
    # Operations and documentation (docs/api.md §1, §10): open to anyone in development.
    Route("GET", "/api/health", "-", every(200), public=True),
    Route("GET", "/metrics", "-", every(200), public=True),
    Route("GET", "/openapi.json", "-", every(200), public=True),
    Route("GET", "/docs", "-", every(200), public=True),
    Route("GET", "/docs/oauth2-redirect", "-", every(200), public=True),
    Route("GET", "/redoc", "-", every(200), public=True),
    # The web app's page (docs/api.md §12): the same for everyone; its data comes from the API.
    Route("GET", "/", "-", every(200), public=True),
    # Auth and users (docs/api.md §3).
    Route("POST", "/api/auth/register", "register", every(201), public=True),
    Route("POST", "/api/auth/login", "login", every(200), public=True),
    Route("POST", "/api/auth/token", "login", every(200), public=True),
    # First run (docs/api.md §3.5): the world has admins, so setup is closed to everyone, with
    # or without a token, whatever the code.
    Route("GET", "/api/setup", "-", every(200), public=True),
    Route("POST", "/api/setup/admin", "-", every((403, "SETUP_CLOSED")), public=True),
    Route("GET", "/api/auth/me", "-", every(200)),
    Route("POST", "/api/auth/logout", "-", every(200), fresh_caller=True),
    Route("PATCH", "/api/users/me", "-", every(200)),
    Route("GET", "/api/users", "user", {
        "interviewee/-": FORBIDDEN, "interviewer/-": FORBIDDEN, "admin/-": 200}),
    Route("GET", "/api/users/{user_id}", "user", {
        **every(200, "owner"), **every(200, "other"), **every(NO_USER, "missing")},
        # The public profile never shows the e-mail, not even to admins (docs/api.md §3).
        sealed=frozenset({"interviewee/other", "interviewer/other", "admin/other"})),
    Route("PATCH", "/api/users/{user_id}", "user", {
        "interviewee/owner": FORBIDDEN, "interviewer/owner": FORBIDDEN, "admin/owner": 200,
        "interviewee/other": FORBIDDEN, "interviewer/other": FORBIDDEN, "admin/other": 200,
        "interviewee/missing": FORBIDDEN, "interviewer/missing": FORBIDDEN,
        "admin/missing": NO_USER}),
    # Question bank (docs/api.md §6): reading for everyone, writing for admins; deleted is hidden.
    Route("GET", "/api/questions", "question", every(200)),
    Route("POST", "/api/questions", "question", {
        "interviewee/-": FORBIDDEN, "interviewer/-": FORBIDDEN, "admin/-": 201}),
    Route("POST", "/api/questions/import", "question", {
        "interviewee/-": FORBIDDEN, "interviewer/-": FORBIDDEN, "admin/-": 201}),
    Route("GET", "/api/questions/{question_id}", "question", {
        **every(200, "other"), **every(NO_QUESTION, "missing"),
        "interviewee/deleted": NO_QUESTION, "interviewer/deleted": NO_QUESTION,
        "admin/deleted": 200},
        sealed=frozenset({"interviewee/other"}), shows=frozenset({"interviewer/other"})),
    Route("PUT", "/api/questions/{question_id}", "question", {
        "interviewee/other": FORBIDDEN, "interviewer/other": FORBIDDEN, "admin/other": 200,
        "interviewee/missing": FORBIDDEN, "interviewer/missing": FORBIDDEN,
        "admin/missing": NO_QUESTION},
        fresh=frozenset({"admin/other"})),
    Route("DELETE", "/api/questions/{question_id}", "question", {
        "interviewee/other": FORBIDDEN, "interviewer/other": FORBIDDEN, "admin/other": 204,
        "interviewee/deleted": FORBIDDEN, "interviewer/deleted": FORBIDDEN,
        "admin/deleted": NO_QUESTION,
        "interviewee/missing": FORBIDDEN, "interviewer/missing": FORBIDDEN,
        "admin/missing": NO_QUESTION},
        fresh=frozenset({"admin/other"})),
    Route("DELETE", "/api/questions/{question_id}", "question", {
        "interviewee/other": FORBIDDEN, "interviewer/other": FORBIDDEN,
        "admin/other": (409, "HARD_DELETE_GUARDED"),
        "interviewee/deleted": FORBIDDEN, "interviewer/deleted": FORBIDDEN, "admin/deleted": 204,
        "admin/missing": NO_QUESTION},
        query="hard=true", fresh=frozenset({"admin/deleted"})),
    Route("POST", "/api/questions/{question_id}/restore", "question", {
        "interviewee/deleted": FORBIDDEN, "interviewer/deleted": FORBIDDEN, "admin/deleted": 200,
        "interviewee/other": FORBIDDEN, "interviewer/other": FORBIDDEN,
        "admin/other": (409, "QUESTION_NOT_DELETED"),
        "interviewee/missing": FORBIDDEN, "interviewer/missing": FORBIDDEN,
        "admin/missing": NO_QUESTION},
        fresh=frozenset({"admin/deleted"})),
    # Interview requests (docs/api.md §4): the owner is the request's interviewee; an accepted
    # request's participant is its interviewer; any interviewer sees an OPEN request.
    Route("POST", "/api/interview-requests", "request.open", {
        "interviewee/-": 201, "interviewer/-": FORBIDDEN, "admin/-": FORBIDDEN}),
    Route("GET", "/api/interview-requests/open", "request.open", {
        "interviewee/-": FORBIDDEN, "interviewer/-": 200, "admin/-": 200}),
    Route("GET", "/api/interview-requests/mine", "request.open", every(200)),
    Route("GET", "/api/interview-requests/{request_id}", "request.open", {
        "interviewee/owner": 200, "interviewee/other": NO_REQUEST,
        "interviewer/other": 200, "admin/other": 200, **every(NO_REQUEST, "missing")}),
    Route("GET", "/api/interview-requests/{request_id}", "request.accepted", {
        "interviewee/owner": 200, "interviewer/participant": 200,
        "interviewee/other": NO_REQUEST, "interviewer/other": NO_REQUEST, "admin/other": 200}),
    Route("POST", "/api/interview-requests/{request_id}/accept", "request.open", {
        "interviewee/owner": FORBIDDEN, "interviewee/other": FORBIDDEN,
        "interviewer/other": 201, "admin/other": FORBIDDEN,
        "interviewee/missing": FORBIDDEN, "interviewer/missing": NO_REQUEST,
        "admin/missing": FORBIDDEN},
        fresh=frozenset({"interviewer/other"})),
    # Every existing request is visible to an interviewer for accept: its state decides.
    Route("POST", "/api/interview-requests/{request_id}/accept", "request.accepted", {
        "interviewee/owner": FORBIDDEN, "interviewer/participant": (409, "REQUEST_NOT_OPEN"),
        "interviewer/other": (409, "REQUEST_NOT_OPEN"), "admin/other": FORBIDDEN}),
    Route("POST", "/api/interview-requests/{request_id}/cancel", "request.open", {
        "interviewee/owner": 200, "interviewee/other": NO_REQUEST,
        "interviewer/other": NO_REQUEST, "admin/other": NO_REQUEST,
        **every(NO_REQUEST, "missing")},
        fresh=frozenset({"interviewee/owner"})),
    Route("POST", "/api/interview-requests/{request_id}/cancel", "request.accepted", {
        "interviewee/owner": (409, "REQUEST_NOT_OPEN"), "interviewer/participant": NO_REQUEST,
        "interviewee/other": NO_REQUEST, "interviewer/other": NO_REQUEST,
        "admin/other": NO_REQUEST}),
    # Interview sessions (docs/api.md §5): participants act, admins read any session, act on none.
    Route("GET", "/api/interview-sessions", "session.lobby", every(200)),
    Route("GET", "/api/interview-sessions/{session_id}", "session.lobby", {
        "interviewee/participant": 200, "interviewer/participant": 200,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION, "admin/other": 200,
        **every(NO_SESSION, "missing")},
        sealed=frozenset({"interviewee/participant"}),
        shows=frozenset({"interviewer/participant", "admin/other"})),
    Route("POST", "/api/interview-sessions/{session_id}/join", "session.lobby", {
        "interviewee/participant": 200, "interviewer/participant": 200,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION, **every(NO_SESSION, "missing")},
        sealed=frozenset({"interviewee/participant"}),
        shows=frozenset({"interviewer/participant"})),
    Route("POST", "/api/interview-sessions/{session_id}/start", "session.startable", {
        "interviewee/participant": NOT_INTERVIEWER, "interviewer/participant": 200,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION, **every(NO_SESSION, "missing")},
        fresh=frozenset({"interviewer/participant"})),
    Route("POST", "/api/interview-sessions/{session_id}/extend", "session.live", {
        "interviewee/participant": NOT_INTERVIEWER, "interviewer/participant": 200,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION, **every(NO_SESSION, "missing")},
        fresh=frozenset({"interviewer/participant"})),
    Route("POST", "/api/interview-sessions/{session_id}/end", "session.live", {
        "interviewee/participant": NOT_INTERVIEWER, "interviewer/participant": 200,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION, **every(NO_SESSION, "missing")},
        fresh=frozenset({"interviewer/participant"})),
    # Not live yet: the interviewer gets the state's answer, everyone else as before.
    Route("POST", "/api/interview-sessions/{session_id}/extend", "session.lobby", {
        "interviewee/participant": NOT_INTERVIEWER,
        "interviewer/participant": (409, "INVALID_SESSION_STATE"), "admin/other": NO_SESSION}),
    Route("POST", "/api/interview-sessions/{session_id}/end", "session.lobby", {
        "interviewee/participant": NOT_INTERVIEWER,
        "interviewer/participant": (409, "INVALID_SESSION_STATE"), "admin/other": NO_SESSION}),
    Route("POST", "/api/interview-sessions/{session_id}/cancel", "session.lobby", {
        "interviewee/participant": 200, "interviewer/participant": 200,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION, **every(NO_SESSION, "missing")},
        fresh=frozenset({"interviewee/participant", "interviewer/participant"})),
    Route("GET", "/api/interview-sessions/{session_id}/calendar.ics", "session.lobby", {
        "interviewee/participant": 200, "interviewer/participant": 200,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION, **every(NO_SESSION, "missing")}),
    # The code pad (docs/api.md §5.7): read by participants and admins in any state, its
    # language set by the interviewer while the session is not over.
    Route("GET", "/api/interview-sessions/{session_id}/code", "session.done", {
        "interviewee/participant": 200, "interviewer/participant": 200,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION, "admin/other": 200,
        **every(NO_SESSION, "missing")}),
    Route("PATCH", "/api/interview-sessions/{session_id}/code", "session.lobby", {
        "interviewee/participant": NOT_INTERVIEWER, "interviewer/participant": 200,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION, **every(NO_SESSION, "missing")},
        fresh=frozenset({"interviewer/participant"})),
    Route("PATCH", "/api/interview-sessions/{session_id}/code", "session.done", {
        "interviewee/participant": NOT_INTERVIEWER,
        "interviewer/participant": (409, "INVALID_SESSION_STATE"), "admin/other": NO_SESSION}),
    # Session questions (docs/api.md §5): the session's interviewer only.
    Route("POST", "/api/interview-sessions/{session_id}/questions", "session.lobby", {
        "interviewee/participant": NOT_INTERVIEWER, "interviewer/participant": 201,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION, **every(NO_SESSION, "missing")},
        fresh=frozenset({"interviewer/participant"})),
    Route("POST", "/api/interview-sessions/{session_id}/questions/suggest", "session.lobby", {
        "interviewee/participant": NOT_INTERVIEWER, "interviewer/participant": 201,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION, **every(NO_SESSION, "missing")},
        fresh=frozenset({"interviewer/participant"})),
    Route("DELETE", "/api/interview-sessions/{session_id}/questions/{question_id}",
          "session.lobby", {
        "interviewee/participant": NOT_INTERVIEWER, "interviewer/participant": 204,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION, **every(NO_SESSION, "missing")},
        fresh=frozenset({"interviewer/participant"})),
    # Feedback (docs/api.md §7): participants write and read; admins read; double-blind until both.
    Route("POST", "/api/feedback", "session.done", {
        "interviewee/participant": 201, "interviewer/participant": 201,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION, **every(NO_SESSION, "missing")},
        fresh=frozenset({"interviewee/participant", "interviewer/participant"})),
    Route("GET", "/api/feedback/session/{session_id}", "session.done", {
        "interviewee/participant": 200, "interviewer/participant": 200,
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION, "admin/other": 200,
        **every(NO_SESSION, "missing")},
        sealed=frozenset({"interviewee/participant"}),
        shows=frozenset({"interviewer/participant", "admin/other"})),
    Route("GET", "/api/feedback/received", "session.done", {
        "interviewee/participant": 200, "interviewer/participant": 200,
        "interviewee/other": 200, "interviewer/other": 200, "admin/other": 200},
        sealed=frozenset({"interviewee/participant", "interviewee/other",
                          "interviewer/other", "admin/other"})),
    # Notifications (docs/api.md §9): each belongs to its user.
    Route("GET", "/api/notifications", "notification", {
        "interviewee/owner": 200, "interviewer/owner": 200,
        "interviewee/other": 200, "interviewer/other": 200, "admin/other": 200},
        sealed=frozenset({"interviewee/other", "interviewer/other", "admin/other"})),
    Route("POST", "/api/notifications/read-all", "notification", {
        "interviewee/owner": 200, "interviewer/owner": 200,
        "interviewee/other": 200, "interviewer/other": 200, "admin/other": 200}),
    Route("POST", "/api/notifications/{notification_id}/read", "notification", {
        "interviewee/owner": 200, "interviewer/owner": 200,
        "interviewee/other": NO_NOTIFICATION, "interviewer/other": NO_NOTIFICATION,
        "admin/other": NO_NOTIFICATION, **every(NO_NOTIFICATION, "missing")}),
    # Practice sessions (docs/api.md §13): interviewees start them; the practice session's
    # interviewee and admins read it and its transcript; a peer session is none, even to its
    # participants. The interviewee sees the question, never its solution or hints.
    Route("POST", "/api/practice-sessions", "-", {
        "interviewee/-": 201, "interviewer/-": FORBIDDEN, "admin/-": FORBIDDEN},
        fresh_caller=True),
    Route("GET", "/api/practice-sessions/{session_id}", "practice", {
        "interviewee/participant": 200, "interviewee/other": NO_SESSION,
        "interviewer/other": NO_SESSION, "admin/other": 200, **every(NO_SESSION, "missing")},
        sealed=frozenset({"interviewee/participant"}), shows=frozenset({"admin/other"})),
    Route("GET", "/api/practice-sessions/{session_id}", "session.live", {
        "interviewee/participant": NO_SESSION, "interviewer/participant": NO_SESSION,
        "admin/other": NO_SESSION}),
    Route("GET", "/api/practice-sessions/{session_id}/transcript", "practice", {
        "interviewee/participant": 200, "interviewee/other": NO_SESSION,
        "interviewer/other": NO_SESSION, "admin/other": 200, **every(NO_SESSION, "missing")},
        sealed=frozenset({"interviewee/participant", "admin/other"})),
    Route("GET", "/api/practice-sessions/{session_id}/transcript", "session.live", {
        "interviewee/participant": NO_SESSION, "interviewer/participant": NO_SESSION,
        "admin/other": NO_SESSION}),
    # A practice session through the session routes: its interviewee conducts it; the AI
    # chooses its question.
    Route("GET", "/api/interview-sessions/{session_id}", "practice", {
        "interviewee/participant": 200, "interviewee/other": NO_SESSION,
        "interviewer/other": NO_SESSION, "admin/other": 200},
        sealed=frozenset({"interviewee/participant"}), shows=frozenset({"admin/other"})),
    Route("POST", "/api/interview-sessions/{session_id}/start", "practice", {
        "interviewee/participant": (409, "INVALID_SESSION_STATE"),
        "interviewee/other": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION}),
    Route("POST", "/api/interview-sessions/{session_id}/questions/suggest", "practice", {
        "interviewee/participant": NOT_INTERVIEWER, "interviewee/other": NO_SESSION,
        "interviewer/other": NO_SESSION, "admin/other": NO_SESSION}),
    Route("POST", "/api/feedback", "practice", {
        "interviewee/participant": NO_SESSION, "interviewer/other": NO_SESSION,
        "admin/other": NO_SESSION}),
    # Analytics (docs/api.md §10): one's own for everyone, the platform's for admins.
    Route("GET", "/api/analytics/me", "-", every(200)),
    Route("GET", "/api/analytics/platform", "-", {
        "interviewee/-": FORBIDDEN, "interviewer/-": FORBIDDEN, "admin/-": 200}),
]
# fmt: on


@dataclass(frozen=True)
class Row:
    route: Route
    caller: str  # anonymous | bad_token | interviewee | interviewer | admin
    relation: str
    expect: Outcome

    @property
    def cell(self) -> str:
        return f"{self.caller}/{self.relation}"

    @property
    def status(self) -> int:
        return status_of(self.expect)

    @property
    def code(self) -> str | None:
        return None if isinstance(self.expect, int) else self.expect[1]

    @property
    def label(self) -> str:
        query = f"?{self.route.query}" if self.route.query else ""
        return f"{self.route.method} {self.route.path}{query} [{self.route.target}] {self.cell}"


def rows() -> Iterator[Row]:
    for route in TABLE:
        first_relation = next(iter(route.cells)).split("/")[1]
        for caller, outcome in UNAUTHENTICATED.items():
            expect = route.cells[f"interviewee/{first_relation}"] if route.public else outcome
            yield Row(route, caller, first_relation, expect)
        for cell, outcome in route.cells.items():
            caller, relation = cell.split("/")
            yield Row(route, caller, relation, outcome)


ROWS = list(rows())


# -- the world --------------------------------------------------------------------------------


@dataclass
class Target:
    """A resource as the rows see it: its path ids, its people, what refusals must not show."""

    params: dict[str, str] = field(default_factory=dict)
    body: Any = None
    owners: dict[str, TestUser] = field(default_factory=dict)  # role → owner
    participants: dict[str, TestUser] = field(default_factory=dict)  # role → participant
    owned: dict[str, dict[str, str]] = field(default_factory=dict)  # role → the owner's params
    secrets: tuple[str, ...] = ()  # never in a refusal
    sealed: tuple[str, ...] = ()  # not in the successes of the `sealed` cells either


@dataclass
class World:
    app: FastAPI
    factory: Factory
    strangers: dict[str, TestUser]  # one user per role, tied to no shared resource
    targets: dict[str, Target]
    deleted_question: str
    admin: TestUser


def person(user: TestUser) -> tuple[str, ...]:
    return (user.id, user.name, user.email)


def session_target(flow: Flow, *secrets: str, body: Any = None) -> Target:
    return Target(
        params={"session_id": flow.id},
        body=body,
        participants={"interviewee": flow.interviewee, "interviewer": flow.interviewer},
        secrets=(
            flow.id,
            str(flow.session["request_id"]),
            *person(flow.interviewee),
            *person(flow.interviewer),
            *secrets,
        ),
    )


@asynccontextmanager
async def rewound(factory: Factory, by: timedelta) -> AsyncIterator[None]:
    """Build something in the past (requests are made hours ahead), then come back."""
    now = factory.clock.now()
    factory.clock.set(now - by)
    try:
        yield
    finally:
        factory.clock.set(now)


async def add_question(factory: Factory, admin: TestUser, **fields: Any) -> dict[str, Any]:
    tag = uuid.uuid4().hex[:10]
    body = {
        **QUESTION,
        "title": f"Question {tag}",
        "prompt": f"Prompt {tag}",
        "hints": [f"Hint {tag}"],
        "solution": f"Solution {tag}",
        **fields,
    }
    response = await factory.client.post("/api/questions", json=body, headers=admin.headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def delete_question(factory: Factory, admin: TestUser, question_id: str) -> None:
    response = await factory.client.delete(f"/api/questions/{question_id}", headers=admin.headers)
    assert response.status_code == 204, response.text


def question_target(question: dict[str, Any]) -> Target:
    return Target(
        params={"question_id": question["id"]},
        secrets=(question["id"], question["title"], question["prompt"], question["solution"]),
        sealed=(question["solution"], *question["hints"]),
    )


async def put_in_session(factory: Factory, flow: Flow, question_id: str) -> None:
    response = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/questions",
        json={"question_id": question_id},
        headers=flow.interviewer.headers,
    )
    assert response.status_code == 201, response.text


async def latest_notification(client: httpx.AsyncClient, user: TestUser) -> dict[str, Any]:
    response = await client.get("/api/notifications", headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    assert items, user
    return items[0]


async def build_world(app: FastAPI, factory: Factory) -> World:
    client = factory.client
    admin = await factory.admin()
    ivee = await factory.user(Role.INTERVIEWEE, name="Ivy Owner")
    iver = await factory.user(Role.INTERVIEWER, name="Victor Participant")
    strangers = {
        "interviewee": await factory.user(Role.INTERVIEWEE, name="Stella Stranger"),
        "interviewer": await factory.user(Role.INTERVIEWER, name="Sam Stranger"),
        "admin": admin,
    }
    # A completed session where only the interviewer has left feedback: the interviewee may
    # not read it yet (double-blind).
    done = await completed(factory, interviewer=iver, interviewee=ivee, category="done-topic")
    comments = f"Sealed comments {uuid.uuid4().hex}"
    response = await client.post(
        "/api/feedback",
        json={"session_id": done.id, "ratings": RATINGS, "comments": comments},
        headers=iver.headers,
    )
    assert response.status_code == 201, response.text
    feedback_id = response.json()["id"]
    # A live one: the clock now stands at its start, and stays there for every row.
    ongoing = await live(factory, interviewer=iver, interviewee=ivee, category="live-topic")
    lobby_note = f"Lobby note {uuid.uuid4().hex}"
    lobby = await accepted(
        factory,
        interviewer=iver,
        interviewee=ivee,
        scheduled_in=timedelta(days=2),
        category="lobby-topic",
        note=lobby_note,
    )
    in_lobby = await add_question(factory, admin)
    await put_in_session(factory, lobby, in_lobby["id"])
    open_note = f"Open note {uuid.uuid4().hex}"
    opened = await post_request(
        factory, ivee, scheduled_in=timedelta(days=3), category="open-topic", note=open_note
    )
    existing = await add_question(factory, admin)
    practised = await add_question(factory, admin, category=PRACTICE_TOPIC)
    response = await client.post(
        "/api/practice-sessions",
        json={"category": PRACTICE_TOPIC, "difficulty": "MEDIUM", "type": "CODING"},
        headers=ivee.headers,
    )
    assert response.status_code == 201, response.text
    practice_id = response.json()["session"]["id"]
    deleted = await add_question(factory, admin)
    await delete_question(factory, admin, deleted["id"])
    notes = {
        "interviewee": await latest_notification(client, ivee),
        "interviewer": await latest_notification(client, iver),
    }
    accepted_id = str(lobby.session["request_id"])
    targets = {
        "-": Target(),
        "register": Target(),
        "login": Target(),
        "user": Target(),  # the user is chosen per row
        "question": question_target(existing),
        "request.open": Target(
            params={"request_id": opened["id"]},
            owners={"interviewee": ivee},
            secrets=(opened["id"], open_note, "open-topic", *person(ivee)),
        ),
        "request.accepted": Target(
            params={"request_id": accepted_id},
            owners={"interviewee": ivee},
            participants={"interviewer": iver},
            secrets=(accepted_id, lobby.id, lobby_note, "lobby-topic", *person(ivee)),
        ),
        "session.lobby": replace(
            session_target(lobby, lobby_note, "lobby-topic", in_lobby["title"]),
            params={"session_id": lobby.id, "question_id": in_lobby["id"]},
            sealed=(in_lobby["solution"], *in_lobby["hints"]),
        ),
        "session.startable": session_target(lobby, lobby_note, "lobby-topic"),
        "session.live": session_target(ongoing, "live-topic"),
        "session.done": replace(
            session_target(done, comments, feedback_id, "done-topic"),
            body={"session_id": done.id, "ratings": RATINGS, "comments": "Fine"},
            sealed=(comments,),
        ),
        "practice": Target(
            params={"session_id": practice_id},
            participants={"interviewee": ivee},
            body={"session_id": practice_id, "ratings": RATINGS},
            secrets=(practice_id, *person(ivee), PRACTICE_TOPIC, practised["title"]),
            sealed=(practised["solution"], *practised["hints"]),
        ),
        "notification": Target(
            params={"notification_id": notes["interviewee"]["id"]},
            owners={"interviewee": ivee, "interviewer": iver},
            owned={r: {"notification_id": n["id"]} for r, n in notes.items()},
            secrets=tuple(notes["interviewee"][k] for k in ("id", "title", "body")),
            sealed=(notes["interviewee"]["id"], notes["interviewer"]["id"]),
        ),
    }
    return World(app, factory, strangers, targets, deleted["id"], admin)


# -- fresh targets, for the rows whose success changes them -----------------------------------

Maker = Callable[[World], Awaitable[Target]]


async def fresh_question(world: World) -> Target:
    return question_target(await add_question(world.factory, world.admin))


async def fresh_deleted_question(world: World) -> Target:
    question = await add_question(world.factory, world.admin)
    await delete_question(world.factory, world.admin, question["id"])
    return question_target(question)


async def fresh_open_request(world: World) -> Target:
    owner = await world.factory.interviewee()
    opened = await post_request(world.factory, owner, scheduled_in=timedelta(days=10))
    return Target(
        params={"request_id": opened["id"]},
        owners={"interviewee": owner},
        secrets=(opened["id"], *person(owner)),
    )


async def fresh_scheduled(world: World) -> Target:
    return session_target(await accepted(world.factory, scheduled_in=timedelta(days=4)))


async def fresh_startable(world: World) -> Target:
    # Scheduled 5 minutes from now: its interviewer may start it (up to 15 minutes early).
    async with rewound(world.factory, timedelta(days=1)):
        flow = await accepted(world.factory, scheduled_in=timedelta(days=1, minutes=5))
    return session_target(flow)


async def fresh_live(world: World) -> Target:
    target = await fresh_startable(world)
    response = await world.factory.client.post(
        f"/api/interview-sessions/{target.params['session_id']}/start",
        headers=target.participants["interviewer"].headers,
    )
    assert response.status_code == 200, response.text
    return target


async def fresh_completed(world: World) -> Target:
    async with rewound(world.factory, timedelta(days=2)):
        flow = await completed(world.factory, scheduled_in=timedelta(days=1))
    body = {"session_id": flow.id, "ratings": RATINGS, "comments": "Fine"}
    return replace(session_target(flow), body=body)


async def fresh_session_with_question(world: World) -> Target:
    flow = await accepted(world.factory, scheduled_in=timedelta(days=5))
    question_id = world.targets["question"].params["question_id"]
    await put_in_session(world.factory, flow, question_id)
    target = session_target(flow)
    return replace(target, params={**target.params, "question_id": question_id})


MAKERS: dict[str, Maker] = {
    "PUT /api/questions/{question_id}": fresh_question,
    "DELETE /api/questions/{question_id}": fresh_question,
    "DELETE /api/questions/{question_id}?hard=true": fresh_deleted_question,
    "POST /api/questions/{question_id}/restore": fresh_deleted_question,
    "POST /api/interview-requests/{request_id}/accept": fresh_open_request,
    "POST /api/interview-requests/{request_id}/cancel": fresh_open_request,
    "POST /api/interview-sessions/{session_id}/start": fresh_startable,
    "POST /api/interview-sessions/{session_id}/extend": fresh_live,
    "POST /api/interview-sessions/{session_id}/end": fresh_live,
    "POST /api/interview-sessions/{session_id}/cancel": fresh_scheduled,
    "POST /api/interview-sessions/{session_id}/questions": fresh_scheduled,
    "PATCH /api/interview-sessions/{session_id}/code": fresh_scheduled,
    "POST /api/interview-sessions/{session_id}/questions/suggest": fresh_scheduled,
    "DELETE /api/interview-sessions/{session_id}/questions/{question_id}": (
        fresh_session_with_question
    ),
    "POST /api/feedback": fresh_completed,
}


# -- one HTTP row ------------------------------------------------------------------------------


@dataclass
class Call:
    method: str
    url: str
    headers: dict[str, str]
    body: Any
    form: dict[str, str] | None

    async def send(self, client: httpx.AsyncClient) -> httpx.Response:
        return await client.request(
            self.method, self.url, json=self.body, data=self.form, headers=self.headers
        )


def body_for(world: World, row: Row, target: Target, caller: TestUser | None) -> Any:
    route = row.route
    match f"{route.method} {route.path}":
        case "POST /api/auth/register":
            email = f"new-{uuid.uuid4().hex}@example.com"
            return {
                "name": "New",
                "email": email,
                "password": "a good password",
                "role": "INTERVIEWEE",
            }
        case "POST /api/setup/admin":
            email = f"first-{uuid.uuid4().hex}@example.com"
            return {
                "code": "ABCD-EFGH-JKLM",
                "name": "First",
                "email": email,
                "password": "a good password",
            }
        case "POST /api/auth/login":
            login = world.strangers["interviewer"]
            return {"email": login.email, "password": login.password}
        case "PATCH /api/users/me":
            return {"name": caller.name if caller else "Nobody"}
        case "PATCH /api/users/{user_id}":
            return {"is_active": True}
        case "POST /api/questions" | "PUT /api/questions/{question_id}":
            return {**QUESTION, "title": f"Written {uuid.uuid4().hex[:8]}"}
        case "POST /api/questions/import":
            return [{**QUESTION, "title": f"Imported {uuid.uuid4().hex[:8]}"}]
        case "POST /api/interview-requests":
            when = world.factory.clock.now() + timedelta(days=20)
            return {"category": "arrays", "difficulty": "EASY", "scheduled_at": when.isoformat()}
        case "POST /api/interview-sessions/{session_id}/extend":
            return {"minutes": 5}
        case "POST /api/interview-sessions/{session_id}/cancel":
            return {"reason": "Something came up"}
        case "POST /api/interview-sessions/{session_id}/questions":
            return {"question_id": world.targets["question"].params["question_id"]}
        case "POST /api/interview-sessions/{session_id}/questions/suggest":
            return {"count": 1}
        case "PATCH /api/interview-sessions/{session_id}/code":
            return {"language": "python"}
        case "POST /api/practice-sessions":
            return {"category": PRACTICE_TOPIC, "difficulty": "MEDIUM", "type": "CODING"}
        case "POST /api/feedback":
            body = dict(target.body)
            if row.relation == "missing":
                body["session_id"] = MISSING
            return body
    return None


async def prepare(world: World, row: Row) -> tuple[Call, Target, Call | None]:
    """The request of `row`, its target, and (for a hidden resource) its missing twin."""
    route = row.route
    target = world.targets[route.target]
    if row.cell in route.fresh:
        query = f"?{route.query}" if route.query else ""
        target = await MAKERS[f"{route.method} {route.path}{query}"](world)

    caller: TestUser | None = None
    if row.caller in ROLES:
        pools = {"owner": target.owners, "participant": target.participants}
        # A user is their own owner: the stranger of that role, acting on themself.
        pool = pools.get(row.relation) or world.strangers
        caller = pool[row.caller]
        if route.fresh_caller:
            caller = await world.factory.user(Role(row.caller.upper()))
    headers = {"anonymous": {}, "bad_token": {"Authorization": "Bearer not-a-token"}}.get(
        row.caller, caller.headers if caller else {}
    )

    params = dict(target.params)
    if route.target == "user":
        if row.relation == "owner" and caller is not None:
            victim = caller
        elif caller is world.strangers["interviewee"]:
            victim = world.strangers["interviewer"]
        else:
            victim = world.strangers["interviewee"]
        params = {"user_id": victim.id}
        target = Target(params=params, secrets=person(victim), sealed=(victim.email,))
    elif row.relation == "owner" and row.caller in target.owned:
        params = target.owned[row.caller]
    elif row.relation == "deleted" and row.cell not in route.fresh:
        params = {"question_id": world.deleted_question}

    def url(with_params: dict[str, str]) -> str:
        path = route.path.format_map(_OrMissing(with_params))
        return path + (f"?{route.query}" if route.query else "")

    form = None
    body = body_for(world, row, target, caller)
    if route.path == "/api/auth/token":
        login = world.strangers["interviewer"]
        form = {"username": login.email, "password": login.password}
    missing = dict.fromkeys(params, MISSING)
    call = Call(
        route.method, url(missing if row.relation == "missing" else params), headers, body, form
    )
    twin = None
    if row.status == 404 and row.relation != "missing":
        twin_body = (
            {**body, "session_id": MISSING}
            if isinstance(body, dict) and "session_id" in body
            else body
        )
        twin = Call(route.method, url(missing), headers, twin_body, form)
    return call, target, twin


class _OrMissing(dict[str, str]):
    """Path parameters for format_map: one the target has no value for is a missing id."""

    def __missing__(self, key: str) -> str:
        return MISSING


PROBLEM_KEYS = {"type", "title", "status", "detail", "code", "request_id"}


def leaks(response: httpx.Response, strings: tuple[str, ...]) -> list[str]:
    text = response.text.lower()
    return [s for s in strings if s and s.lower() in text]


def without_request_id(response: httpx.Response) -> dict[str, Any]:
    return {k: v for k, v in response.json().items() if k != "request_id"}


@pytest.mark.parametrize("row", ROWS, ids=[row.label for row in ROWS])
async def test_authorization(world: World, row: Row) -> None:
    client = world.factory.client
    call, target, twin = await prepare(world, row)
    refused = row.status >= 400
    before = await snapshot(world.app) if refused and row.route.method != "GET" else None

    response = await call.send(client)

    assert response.status_code == row.status, f"{row.label}: {response.text}"
    if refused:
        problem = assert_problem(response, row.status, row.code)
        assert set(problem) <= PROBLEM_KEYS, problem  # a problem document, nothing else
        assert leaks(response, target.secrets) == [], response.text
        if row.status == 401:
            assert response.headers["www-authenticate"].lower().startswith("bearer")
        if twin is not None:  # hidden answers exactly like missing
            missing = await twin.send(client)
            assert missing.status_code == 404, missing.text
            assert without_request_id(response) == without_request_id(missing)
        if before is not None:  # a refused write changes nothing
            assert await snapshot(world.app) == before
    elif row.cell in row.route.sealed:
        assert target.sealed, row.label
        assert leaks(response, target.sealed) == [], response.text
    elif row.cell in row.route.shows:
        assert leaks(response, target.sealed) == list(target.sealed), response.text


# -- Socket.IO (docs/api.md §8) --------------------------------------------------------------------

CONNECTED = "connected"
OK = "ok"
ENDED = "ended"


@dataclass(frozen=True)
class EventRow:
    """A Socket.IO event, sent by `caller` with `relation` to the target session.

    Outcomes: CONNECTED (the handshake succeeds), OK (the ack is `{ok: true, …}`), ENDED (the
    server ends the socket before it can send the event: `revoked` callers, whose token is
    logged out), or a code: for `anonymous`/`bad_token` the handshake's refusal, otherwise the
    event's refused ack `{ok: false, code}` and nothing else. `stale` callers' tokens are
    revoked without any process being told (a lost announcement): refused, then ended.
    """

    event: str  # connect | join | signal | leave | disconnect | code_sync | code_update | …
    caller: str  # anonymous | bad_token | revoked | stale | a role
    relation: str  # participant | other | missing | -
    target: str  # session.lobby | session.live | session.done | session.ended | -
    expect: str

    @property
    def label(self) -> str:
        return f"{self.event} [{self.target}] {self.caller}/{self.relation} -> {self.expect}"


CODE_EVENTS = ("code_sync", "code_update", "code_awareness")


def socket_rows() -> Iterator[EventRow]:
    for event in ("connect", "join", "signal", "leave", *CODE_EVENTS, "practice_message"):
        yield EventRow(event, "anonymous", "-", "-", "NOT_AUTHENTICATED")
        yield EventRow(event, "bad_token", "-", "-", "INVALID_TOKEN")
    for role in ROLES:
        yield EventRow("connect", role, "-", "-", CONNECTED)
    participants = [("interviewee", "participant"), ("interviewer", "participant")]
    strangers = [("interviewee", "other"), ("interviewer", "other"), ("admin", "other")]
    missing = [(role, "missing") for role in ROLES]
    for role, relation in participants:
        yield EventRow("join", role, relation, "session.lobby", OK)
        yield EventRow("signal", role, relation, "session.lobby", OK)
        yield EventRow("leave", role, relation, "session.lobby", OK)
        yield EventRow("disconnect", role, relation, "session.lobby", OK)
        # The code pad: synced and cursors shown in the lobby, edited only while LIVE.
        yield EventRow("code_sync", role, relation, "session.lobby", OK)
        yield EventRow("code_awareness", role, relation, "session.lobby", OK)
        yield EventRow("code_update", role, relation, "session.lobby", "INVALID_SESSION_STATE")
        yield EventRow("code_update", role, relation, "session.live", OK)
    for role, relation in strangers + missing:
        yield EventRow("join", role, relation, "session.lobby", "SESSION_NOT_FOUND")
        yield EventRow("signal", role, relation, "session.lobby", "NOT_JOINED")
        for event in CODE_EVENTS:
            yield EventRow(event, role, relation, "session.live", "NOT_JOINED")
    for role, relation in strangers:
        yield EventRow("leave", role, relation, "session.lobby", OK)
        yield EventRow("disconnect", role, relation, "session.lobby", OK)
    yield EventRow("join", "interviewee", "participant", "session.done", "INVALID_SESSION_STATE")
    yield EventRow("signal", "interviewee", "participant", "session.ended", "INVALID_SESSION_STATE")
    for event in CODE_EVENTS:
        yield EventRow(
            event, "interviewer", "participant", "session.ended", "INVALID_SESSION_STATE"
        )
    for event in ("join", "signal", "leave", *CODE_EVENTS, "practice_message"):
        yield EventRow(event, "revoked", "participant", "session.lobby", ENDED)
        yield EventRow(event, "stale", "participant", "session.lobby", "INVALID_TOKEN")
    # Practice sessions (docs/api.md §13.3): their interviewee talks to the AI interviewer;
    # nobody else may, and a peer session has no AI interviewer to talk to.
    yield EventRow("practice_message", "interviewee", "participant", "practice", OK)
    for role, relation in strangers + missing:
        yield EventRow("practice_message", role, relation, "practice", "NOT_JOINED")
    for role in ("interviewee", "interviewer"):
        yield EventRow("practice_message", role, "participant", "session.live", "SESSION_NOT_FOUND")


SOCKET_ROWS = list(socket_rows())


async def refused_handshake(url: str, token: str | None) -> Any:
    peer = Peer(url, token)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await peer.connect()
    finally:
        await peer.close()
    return peer.connect_errors[-1] if peer.connect_errors else None


async def session_status(world: World, session_id: str) -> str:
    response = await world.factory.client.get(
        f"/api/interview-sessions/{session_id}", headers=world.admin.headers
    )
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


async def revoke(world: World, token: str) -> None:
    response = await world.factory.client.post(
        "/api/auth/logout", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200, response.text


async def gone(world: World, sid: str | None) -> None:
    """Wait until the server has handled this socket's disconnection."""
    sockets = world.app.services.realtime.sockets
    for _ in range(500):
        if sid not in sockets:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"socket {sid} still known to the server")


@pytest.mark.parametrize("row", SOCKET_ROWS, ids=[row.label for row in SOCKET_ROWS])
async def test_socket_event(world: World, socket_url: str, row: EventRow) -> None:
    if row.caller in UNAUTHENTICATED:
        token = None if row.caller == "anonymous" else "not-a-token"
        error = await refused_handshake(socket_url, token)
        assert error is not None, row.label
        assert error["data"] == {"code": row.expect}, error
        return

    factory = world.factory
    if row.target == "session.ended":
        target = await fresh_live(world)
    else:
        target = world.targets.get(row.target, Target())
    revoking = row.caller in ("revoked", "stale")
    role = "interviewee" if revoking else row.caller
    user = (target.participants if row.relation == "participant" else world.strangers)[role]
    token = factory.token_for(user.id)  # this row's own token: it may be revoked
    session_id = MISSING if row.relation == "missing" else target.params.get("session_id", "")

    async with AsyncExitStack() as stack:

        async def connect(token: str) -> Peer:
            peer = Peer(socket_url, token)
            stack.push_async_callback(peer.close)
            return await peer.connect()

        me = await connect(token)
        if row.event == "connect":
            assert me.client.connected
            assert row.expect == CONNECTED
            return
        # The session's other participant (the interviewer, for a stranger) watches it.
        watcher = None
        watcher_user = target.participants.get(
            "interviewee" if role == "interviewer" else "interviewer"
        )
        if watcher_user is not None and row.target != "session.done":
            watcher = await connect(factory.token_for(watcher_user.id))
            joined = await watcher.join(target.params["session_id"])
            assert joined["ok"] is True, joined

        if row.event != "join":
            joined = await me.join(session_id)
            if row.relation == "participant":
                assert joined["ok"] is True, joined
            else:
                assert joined == {"ok": False, "code": "SESSION_NOT_FOUND"}, joined
        if row.caller == "revoked":
            await revoke(world, token)
            assert await me.ended() == {"code": "INVALID_TOKEN", "reason": "logout"}
            if watcher is not None and row.event != "join":
                # It had joined: to the room, its end is a disconnection.
                await watcher.wait_for("presence", where=lambda e: e["state"] == "left")
        elif row.caller == "stale":
            await silently_revoke(world.app, token)
            world.app.services.realtime.cache.clear()
        if row.target == "session.ended":
            response = await factory.client.post(
                f"/api/interview-sessions/{session_id}/end",
                headers=target.participants["interviewer"].headers,
            )
            assert response.status_code == 200, response.text
        if watcher is not None:
            await watcher.barrier()
            watcher.received.clear()

        status_before = await session_status(world, target.params["session_id"])
        data = {"sdp": "v=0"}
        sent: dict[str, Any] = {}
        if row.expect == ENDED:
            ack = None
        elif row.event == "join":
            ack = await me.join(session_id)
        elif row.event == "signal":
            ack = await me.send_signal(session_id, "offer", data)
        elif row.event == "leave":
            ack = await me.call("leave", {"session_id": session_id})
        elif row.event == "code_sync":
            ack = await me.call("code_sync", {"session_id": session_id, "state_vector": ""})
        elif row.event in ("code_update", "code_awareness"):
            sent = {"session_id": session_id, "update": code_update()}
            ack = await me.call(row.event, sent)
        elif row.event == "practice_message":
            ack = await me.call(row.event, {"session_id": session_id, "text": "Hello"})
        else:
            sid = me.client.get_sid()
            await me.client.disconnect()
            await gone(world, sid)
            ack = {"ok": True}

        if row.expect == OK:
            assert ack["ok"] is True, ack
        elif row.expect != ENDED:
            assert ack == {"ok": False, "code": row.expect}, ack  # the code and nothing else
        if row.caller == "stale":
            assert await me.ended() == {"code": "INVALID_TOKEN", "reason": "revoked"}
        if row.event == "join" and row.expect == OK:
            assert ack["session"]["id"] == session_id
            assert ack["peers"] == [watcher_user.id if watcher_user else None]
            if role == "interviewee":
                assert leaks_text(json.dumps(ack), target.sealed) == [], ack
        # No event changes the session (docs/api.md §5: not even a participant leaving).
        assert await session_status(world, target.params["session_id"]) == status_before
        if watcher is None:
            return
        # The watcher hears a participant's successful event, and nothing of any other.
        expected: dict[str, list[Any]] = {}
        presence = {"session_id": session_id, "user_id": user.id}
        if row.caller == "stale" and row.event != "join":
            # It had joined before its token was revoked: ended, it leaves the room.
            expected = {"presence": [{**presence, "state": "left"}]}
            await watcher.wait_for("presence")
        if row.expect == OK and row.relation == "participant":
            heard: dict[str, dict[str, list[Any]]] = {
                "join": {"presence": [{**presence, "state": "joined"}]},
                "signal": {
                    "signal": [
                        {"session_id": session_id, "from": user.id, "type": "offer", "data": data}
                    ]
                },
                "leave": {"presence": [{**presence, "state": "left"}]},
                "code_sync": {},
                "code_update": {"code_update": [{**sent, "from": user.id}]},
                "code_awareness": {"code_awareness": [{**sent, "from": user.id}]},
                "practice_message": {},
                "disconnect": {"presence": [{**presence, "state": "left"}]},
            }
            expected = heard[row.event]
            for name, events in expected.items():
                await watcher.wait_for(name, len(events))
        await watcher.barrier()
        received = {name: events for name, events in watcher.received.items() if events}
        assert received == expected


def code_update() -> str:
    """A Yjs update of a new client of its own (relayed, never a duplicate), in base64."""
    doc: Doc[Text] = Doc()
    doc.get("code", type=Text).insert(0, "x")
    return base64.b64encode(doc.get_update()).decode()


def leaks_text(text: str, strings: tuple[str, ...]) -> list[str]:
    lowered = text.lower()
    return [s for s in strings if s and s.lower() in lowered]


# -- coverage ----------------------------------------------------------------------------------


def test_table_covers_every_route_and_socket_handler(world: World) -> None:
    app = world.app
    routed = {
        (method, context.path)
        for context in iter_route_contexts(app.routes)
        for method in (context.methods or set()) - {"HEAD"}
    }
    documented = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }
    assert documented <= routed
    tabled = {(route.method, route.path) for route in TABLE}
    assert tabled == routed, {"without a row": routed - tabled, "not routed": tabled - routed}
    for route in TABLE:
        roles = {cell.split("/")[0] for cell in route.cells}
        assert roles == set(ROLES), f"{route.method} {route.path}: {roles}"
        assert route.fresh <= set(route.cells), route.fresh
        assert route.sealed <= set(route.cells), route.sealed
        assert route.shows <= set(route.cells) - route.sealed, route.shows
        # A fresh resource is only made for a success that changes it.
        assert all(200 <= status_of(route.cells[cell]) < 300 for cell in route.fresh)
    handlers = set(app.services.realtime.sio.handlers["/"])
    assert handlers == {row.event for row in SOCKET_ROWS}, handlers


# -- fixtures: one application and world for the module -------------------------------------------


@pytest.fixture(scope="module")
async def world(
    migrated_template: str,
    _postgres_cleaner: AsyncEngine | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[World]:
    if POSTGRES_URL and _postgres_cleaner is not None:
        tables = reversed(Base.metadata.sorted_tables)
        script = "; ".join(f"DELETE FROM {t.name}" for t in tables)  # noqa: S608 (our names)
        async with _postgres_cleaner.connect() as conn:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute(script)
        database_url = POSTGRES_URL
    else:
        path = tmp_path_factory.mktemp("matrix") / "peerview.db"
        shutil.copyfile(migrated_template, path)
        database_url = f"sqlite+aiosqlite:///{path}"
    settings = test_settings(
        database_url,
        # The world's users write far more than 60 times in one minute of the fake clock;
        # the write limit has tests of its own.
        write_rate_limit_per_minute=0,
        write_rate_limit_admin_per_minute=0,
    )
    clock = FakeClock()
    app = create_app(settings, clock)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            factory = Factory(app=app, client=client, clock=clock)
            yield await build_world(app, factory)
    finally:
        app.services.passwords.close()
        await app.services.database.close()


@pytest.fixture(scope="module")
async def socket_url(world: World) -> AsyncIterator[str]:
    async with serve(world.app) as url:
        yield url
