"""Who gets what on every route of interview requests and sessions, from one table.

Anonymous and bad tokens: 401 everywhere. A role the SPEC does not name: 403, before any
lookup. A resource the caller may not see: 404, indistinguishable from a missing one.
A participant who is not the interviewer, on an interviewer-only action: 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest

from tests import factories
from tests.factories import Factory
from tests.flow import accepted, post_request
from tests.lifecycle.support import request_row, session_row
from tests.platform.apps import assert_problem

MISSING = "00000000-0000-0000-0000-000000000000"
ACTORS = (
    "anonymous",
    "bad_token",
    "owner",
    "interviewer",
    "other_interviewee",
    "other_interviewer",
    "admin",
)


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # {open}: an OPEN request of `owner`; {accepted}/{session}: theirs with `interviewer`
    expect: dict[str, int | tuple[int, str]]
    body: Any = None
    params: dict[str, str] = field(default_factory=dict)


def everyone_but_anonymous(status: int) -> dict[str, int | tuple[int, str]]:
    return {a: status for a in ACTORS if a not in ("anonymous", "bad_token")}


NOT_FOUND_R = (404, "REQUEST_NOT_FOUND")
NOT_FOUND_S = (404, "SESSION_NOT_FOUND")
NOT_INTERVIEWER = (403, "NOT_SESSION_INTERVIEWER")
WRONG_ROLE = (403, "FORBIDDEN")

ROUTES = [
    # Interview requests (SPEC §4). Creates are checked for refusals only.
    Route(
        "POST",
        "/api/interview-requests",
        {"interviewer": WRONG_ROLE, "other_interviewer": WRONG_ROLE, "admin": WRONG_ROLE},
        body="new-request",
    ),
    Route(
        "GET",
        "/api/interview-requests/open",
        {
            "owner": WRONG_ROLE,
            "other_interviewee": WRONG_ROLE,
            "interviewer": 200,
            "other_interviewer": 200,
            "admin": 200,
        },
    ),
    Route("GET", "/api/interview-requests/mine", everyone_but_anonymous(200)),
    Route(
        "GET",
        "/api/interview-requests/{open}",
        {
            "owner": 200,
            "interviewer": 200,
            "other_interviewer": 200,  # any interviewer, while it is open
            "admin": 200,
            "other_interviewee": NOT_FOUND_R,
        },
    ),
    Route(
        "GET",
        "/api/interview-requests/{accepted}",
        {
            "owner": 200,
            "interviewer": 200,
            "admin": 200,
            "other_interviewer": NOT_FOUND_R,
            "other_interviewee": NOT_FOUND_R,
        },
    ),
    Route(
        "POST",
        "/api/interview-requests/{open}/accept",
        {"owner": WRONG_ROLE, "other_interviewee": WRONG_ROLE, "admin": WRONG_ROLE},
    ),
    # The role is checked before the lookup: no 404 for a role that may never accept.
    Route(
        "POST",
        f"/api/interview-requests/{MISSING}/accept",
        {
            "owner": WRONG_ROLE,
            "admin": WRONG_ROLE,
            "interviewer": NOT_FOUND_R,
        },
    ),
    Route(
        "POST",
        "/api/interview-requests/{open}/cancel",
        {
            "interviewer": NOT_FOUND_R,
            "other_interviewer": NOT_FOUND_R,
            "other_interviewee": NOT_FOUND_R,
            "admin": NOT_FOUND_R,
        },
    ),
    Route(
        "POST",
        "/api/interview-requests/{accepted}/cancel",
        {
            "owner": (409, "REQUEST_NOT_OPEN"),
            "interviewer": NOT_FOUND_R,
            "other_interviewer": NOT_FOUND_R,
            "other_interviewee": NOT_FOUND_R,
            "admin": NOT_FOUND_R,
        },
    ),
    # Interview sessions (SPEC §5).
    Route("GET", "/api/interview-sessions", everyone_but_anonymous(200)),
    Route(
        "GET",
        "/api/interview-sessions/{session}",
        {
            "owner": 200,
            "interviewer": 200,
            "admin": 200,
            "other_interviewer": NOT_FOUND_S,
            "other_interviewee": NOT_FOUND_S,
        },
    ),
    Route(
        "POST",
        "/api/interview-sessions/{session}/join",
        {
            "owner": 200,
            "interviewer": 200,
            "admin": NOT_FOUND_S,
            "other_interviewer": NOT_FOUND_S,
            "other_interviewee": NOT_FOUND_S,
        },
    ),
    Route(
        "POST",
        "/api/interview-sessions/{session}/start",
        {
            "owner": NOT_INTERVIEWER,
            "admin": NOT_FOUND_S,
            "other_interviewer": NOT_FOUND_S,
            "other_interviewee": NOT_FOUND_S,
        },
    ),
    Route(
        "POST",
        "/api/interview-sessions/{session}/extend",
        {
            "owner": NOT_INTERVIEWER,
            "interviewer": (409, "INVALID_SESSION_STATE"),
            "admin": NOT_FOUND_S,
            "other_interviewer": NOT_FOUND_S,
            "other_interviewee": NOT_FOUND_S,
        },
        body={"minutes": 5},
    ),
    Route(
        "POST",
        "/api/interview-sessions/{session}/end",
        {
            "owner": NOT_INTERVIEWER,
            "interviewer": (409, "INVALID_SESSION_STATE"),
            "admin": NOT_FOUND_S,
            "other_interviewer": NOT_FOUND_S,
            "other_interviewee": NOT_FOUND_S,
        },
    ),
    Route(
        "POST",
        "/api/interview-sessions/{session}/cancel",
        {
            "admin": NOT_FOUND_S,
            "other_interviewer": NOT_FOUND_S,
            "other_interviewee": NOT_FOUND_S,
        },
    ),
    Route(
        "GET",
        "/api/interview-sessions/{session}/calendar.ics",
        {
            "owner": 200,
            "interviewer": 200,
            "admin": NOT_FOUND_S,
            "other_interviewer": NOT_FOUND_S,
            "other_interviewee": NOT_FOUND_S,
        },
    ),
    Route("GET", f"/api/interview-sessions/{MISSING}", {"admin": NOT_FOUND_S}),
]


@dataclass
class World:
    users: dict[str, factories.TestUser]
    ids: dict[str, str]


async def build(factory: Factory) -> World:
    flow = await accepted(factory)
    owner = flow.interviewee
    posted = await post_request(factory, owner, scheduled_in=timedelta(days=3))
    users = {
        "owner": owner,
        "interviewer": flow.interviewer,
        "other_interviewee": await factory.interviewee(),
        "other_interviewer": await factory.interviewer(),
        "admin": await factory.admin(),
    }
    ids = {"open": posted["id"], "accepted": flow.session["request_id"], "session": flow.id}
    return World(users=users, ids=ids)


def headers_for(world: World, actor: str) -> dict[str, str]:
    if actor == "anonymous":
        return {}
    if actor == "bad_token":
        return {"Authorization": "Bearer not-a-token"}
    return world.users[actor].headers


def body_for(factory: Factory, route: Route) -> Any:
    if route.body == "new-request":
        return {
            "category": "arrays",
            "difficulty": "EASY",
            "scheduled_at": (factory.clock.now() + timedelta(days=2)).isoformat(),
        }
    return route.body


async def test_access_matrix(factory: Factory) -> None:
    world = await build(factory)
    before_requests = {
        k: await request_row(factory.app, world.ids[k]) for k in ("open", "accepted")
    }
    before_session = await session_row(factory.app, world.ids["session"])
    checked = 0
    for route in ROUTES:
        url = route.path.format(**world.ids)
        expectations: dict[str, int | tuple[int, str]] = {
            "anonymous": (401, "NOT_AUTHENTICATED"),
            "bad_token": (401, "INVALID_TOKEN"),
            **route.expect,
        }
        for actor, expected in expectations.items():
            status, code = expected if isinstance(expected, tuple) else (expected, None)
            response = await factory.client.request(
                route.method,
                url,
                json=body_for(factory, route),
                params=route.params,
                headers=headers_for(world, actor),
            )
            where = f"{route.method} {route.path} as {actor}"
            assert response.status_code == status, f"{where}: {response.text}"
            if status >= 400:
                problem = assert_problem(response, status, code)
                assert problem["code"], where
            if status == 401:
                assert response.headers["www-authenticate"].lower().startswith("bearer"), where
            checked += 1
    assert checked >= 80
    # Refusals changed nothing.
    for key, row in before_requests.items():
        assert await request_row(factory.app, world.ids[key]) == row, key
    assert await session_row(factory.app, world.ids["session"]) == before_session


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/interview-sessions/{session}"),
        ("POST", "/api/interview-sessions/{session}/join"),
        ("GET", "/api/interview-sessions/{session}/calendar.ics"),
        ("GET", "/api/interview-requests/{accepted}"),
        ("POST", "/api/interview-requests/{open}/cancel"),
    ],
)
async def test_not_visible_is_indistinguishable_from_missing(
    factory: Factory, method: str, path: str
) -> None:
    world = await build(factory)
    third = world.users["other_interviewee"]
    hidden = await factory.client.request(method, path.format(**world.ids), headers=third.headers)
    missing_ids = dict.fromkeys(world.ids, MISSING)
    missing = await factory.client.request(
        method, path.format(**missing_ids), headers=third.headers
    )
    assert hidden.status_code == missing.status_code == 404
    strip = {"request_id"}
    assert {k: v for k, v in hidden.json().items() if k not in strip} == {
        k: v for k, v in missing.json().items() if k not in strip
    }


def template(path: str) -> str:
    """The route template a table path stands for."""
    for placeholder in ("{open}", "{accepted}"):
        path = path.replace(placeholder, "{request_id}")
    path = path.replace("{session}", "{session_id}")
    if path.startswith("/api/interview-sessions/"):
        return path.replace(MISSING, "{session_id}")
    return path.replace(MISSING, "{request_id}")


def test_every_route_of_the_two_features_is_in_the_table(app: Any) -> None:
    prefixes = ("/api/interview-requests", "/api/interview-sessions")
    routed = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        if path.startswith(prefixes) and "/questions" not in path
        for method in operations
    }
    tabled = {(r.method, template(r.path)) for r in ROUTES}
    assert len(routed) == 14
    assert routed <= tabled, routed - tabled
