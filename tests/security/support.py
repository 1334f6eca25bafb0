"""Shared by the security tests: a world where every write operation has a valid call ready."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select

from peerview.models import Base
from tests.factories import Factory, TestUser
from tests.flow import accepted, completed, live, post_request
from tests.support.sql import execute

WRITE_METHODS = ("post", "put", "patch", "delete")


@dataclass
class Call:
    """One valid request of an operation: who sends it, to which ids, with which body."""

    method: str
    path: str
    user: TestUser | None
    path_parameters: dict[str, str] = field(default_factory=dict)
    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.path.format(**self.path_parameters)

    @property
    def label(self) -> str:
        return f"{self.method.upper()} {self.path}"

    @property
    def headers(self) -> dict[str, str]:
        return self.user.headers if self.user else {}

    async def send(
        self, client: httpx.AsyncClient, *, body: Any = None, query: dict[str, Any] | None = None
    ) -> httpx.Response:
        return await client.request(
            self.method.upper(),
            self.url,
            json=self.body if body is None else body,
            params={**self.query, **(query or {})},
            headers=self.headers,
        )


async def openapi(client: httpx.AsyncClient) -> dict[str, Any]:
    schema: dict[str, Any] = (await client.get("/openapi.json")).json()
    return schema


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """`node` with its $ref (and a nullable anyOf's one object) followed."""
    while True:
        if "$ref" in node:
            node = schema["components"]["schemas"][node["$ref"].rsplit("/", 1)[-1]]
        elif "anyOf" in node:
            objects = [n for n in node["anyOf"] if n.get("type") != "null"]
            if len(objects) != 1:
                return node
            node = objects[0]
        else:
            return node


def json_body_schema(schema: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return resolve(schema, content["application/json"]["schema"])


def object_schema(schema: dict[str, Any], body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The schema of a body's fields, and how a 422 names them: a list body's (the question
    import's) are its items', named from the first item (`0.title`)."""
    if body.get("type") == "array":
        return resolve(schema, body["items"]), "0."
    return body, ""


def with_field(body: Any, name: str, value: Any) -> Any:
    """`body` with one field set: in the first item of a list body."""
    if isinstance(body, list):
        return [{**body[0], name: value}, *body[1:]]
    return {**(body or {}), name: value}


def write_operations(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every write operation of the schema by label (`POST /api/...`)."""
    return {
        f"{method.upper()} {path}": operation
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
        if method in WRITE_METHODS
    }


async def snapshot(app: FastAPI) -> dict[str, list[str]]:
    """Every row of every table, to compare a database before and after a refused request."""
    tables: dict[str, list[str]] = {}
    async with app.services.database.acquire() as conn:
        for table in Base.metadata.sorted_tables:
            rows = (await execute(conn, select(table))).all()
            tables[table.name] = sorted(repr(tuple(row)) for row in rows)
    return tables


QUESTION = {
    "title": "Merge intervals",
    "prompt": "Merge overlapping intervals.",
    "category": "arrays",
    "difficulty": "MEDIUM",
    "type": "CODING",
    "tags": ["sorting"],
    "hints": ["Sort by start"],
    "solution": "Sort, then sweep.",
}
RATINGS = {"communication": 4, "problem_solving": 4, "technical": 3, "overall": 4}


async def valid_calls(factory: Factory) -> dict[str, Call]:
    """A valid, not yet sent request for every write operation, each on resources of its own.

    Each call succeeds when sent once (2xx), so a test can send the same call with something
    added and know that only the addition can be the reason for a refusal.
    """
    client = factory.client
    admin = await factory.admin()
    bystander = await factory.interviewee()

    async def question() -> str:
        response = await client.post("/api/questions", json=QUESTION, headers=admin.headers)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def soft_deleted_question() -> str:
        question_id = await question()
        response = await client.delete(f"/api/questions/{question_id}", headers=admin.headers)
        assert response.status_code == 204, response.text
        return question_id

    done = await completed(factory)
    # Scheduled 5 minutes after the live session below, which sets the clock to its own start:
    # its interviewer may then start it (up to 15 minutes early).
    startable = await accepted(factory, scheduled_in=timedelta(days=1, minutes=5))
    ongoing = await live(factory, scheduled_in=timedelta(days=1))
    added = await question()
    response = await client.post(
        f"/api/interview-sessions/{ongoing.id}/questions",
        json={"question_id": added},
        headers=ongoing.interviewer.headers,
    )
    assert response.status_code == 201, response.text
    lobby = await accepted(factory, scheduled_in=timedelta(days=2))
    lobby_too = await accepted(factory, scheduled_in=timedelta(days=3))
    owner = await factory.interviewee()
    to_cancel = await post_request(factory, owner, scheduled_in=timedelta(days=4))
    to_accept = await post_request(
        factory, await factory.interviewee(), scheduled_in=timedelta(days=5)
    )
    reader = lobby.interviewee  # got REQUEST_ACCEPTED when the lobby session was accepted
    notes = (await client.get("/api/notifications", headers=reader.headers)).json()["items"]
    to_logout = await factory.interviewer()
    practising = await factory.interviewee()
    response = await client.post(
        "/api/questions", json={**QUESTION, "category": "practice-calls"}, headers=admin.headers
    )
    assert response.status_code == 201, response.text

    def call(method: str, path: str, user: TestUser | None, **kwargs: Any) -> Call:
        return Call(method, path, user, **kwargs)

    calls = [
        call(
            "post",
            "/api/auth/register",
            None,
            body={
                "name": "New Person",
                "email": "new-person@example.com",
                "password": "correct horse battery",
                "role": "INTERVIEWEE",
            },
        ),
        call(
            "post",
            "/api/auth/login",
            None,
            body={"email": bystander.email, "password": bystander.password},
        ),
        call("post", "/api/auth/logout", to_logout),
        call("patch", "/api/users/me", bystander, body={"name": "Renamed"}),
        call(
            "patch",
            "/api/users/{user_id}",
            admin,
            path_parameters={"user_id": bystander.id},
            body={"role": "INTERVIEWER"},
        ),
        call("post", "/api/questions", admin, body=QUESTION),
        call(
            "post",
            "/api/questions/import",
            admin,
            body=[
                {**QUESTION, "title": "Imported merge intervals"},
                {**QUESTION, "title": "Imported two sum", "difficulty": "EASY"},
            ],
        ),
        call(
            "put",
            "/api/questions/{question_id}",
            admin,
            path_parameters={"question_id": await question()},
            body={**QUESTION, "title": "Merge intervals, again"},
        ),
        call(
            "delete",
            "/api/questions/{question_id}",
            admin,
            path_parameters={"question_id": await question()},
        ),
        call(
            "post",
            "/api/questions/{question_id}/restore",
            admin,
            path_parameters={"question_id": await soft_deleted_question()},
        ),
        call(
            "post",
            "/api/interview-requests",
            owner,
            body={
                "category": "graphs",
                "difficulty": "HARD",
                "type": "CODING",
                "scheduled_at": (factory.clock.now() + timedelta(days=6)).isoformat(),
                "duration_minutes": 45,
                "note": "Please be kind",
            },
        ),
        call(
            "post",
            "/api/interview-requests/{request_id}/accept",
            await factory.interviewer(),
            path_parameters={"request_id": to_accept["id"]},
        ),
        call(
            "post",
            "/api/interview-requests/{request_id}/cancel",
            owner,
            path_parameters={"request_id": to_cancel["id"]},
        ),
        call(
            "post",
            "/api/interview-sessions/{session_id}/join",
            lobby.interviewee,
            path_parameters={"session_id": lobby.id},
        ),
        call(
            "post",
            "/api/interview-sessions/{session_id}/start",
            startable.interviewer,
            path_parameters={"session_id": startable.id},
        ),
        call(
            "post",
            "/api/interview-sessions/{session_id}/extend",
            ongoing.interviewer,
            path_parameters={"session_id": ongoing.id},
            body={"minutes": 5},
        ),
        call(
            "delete",
            "/api/interview-sessions/{session_id}/questions/{question_id}",
            ongoing.interviewer,
            path_parameters={"session_id": ongoing.id, "question_id": added},
        ),
        call(
            "post",
            "/api/interview-sessions/{session_id}/end",
            ongoing.interviewer,
            path_parameters={"session_id": ongoing.id},
        ),
        call(
            "post",
            "/api/interview-sessions/{session_id}/cancel",
            lobby_too.interviewee,
            path_parameters={"session_id": lobby_too.id},
            body={"reason": "Something came up"},
        ),
        call(
            "post",
            "/api/interview-sessions/{session_id}/questions",
            lobby.interviewer,
            path_parameters={"session_id": lobby.id},
            body={"question_id": await question()},
        ),
        call(
            "post",
            "/api/interview-sessions/{session_id}/questions/suggest",
            lobby.interviewer,
            path_parameters={"session_id": lobby.id},
            body={"count": 1},
        ),
        call(
            "patch",
            "/api/interview-sessions/{session_id}/code",
            lobby.interviewer,
            path_parameters={"session_id": lobby.id},
            body={"language": "python"},
        ),
        call(
            "post",
            "/api/feedback",
            done.interviewee,
            body={"session_id": done.id, "ratings": RATINGS, "comments": "Helpful"},
        ),
        call(
            "post",
            "/api/notifications/{notification_id}/read",
            reader,
            path_parameters={"notification_id": notes[0]["id"]},
        ),
        call("post", "/api/notifications/read-all", reader),
        call(
            "post",
            "/api/practice-sessions",
            practising,
            body={"category": "practice-calls", "difficulty": "MEDIUM", "type": "CODING"},
        ),
    ]
    return {c.label: c for c in calls}
