"""/openapi.json documents every request and session route with the errors it may answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

# (method, path) → {status: codes that status's description must name}
EXPECTED: dict[tuple[str, str], dict[str, set[str]]] = {
    ("post", "/api/interview-requests"): {
        "201": set(),
        "401": {"NOT_AUTHENTICATED", "INVALID_TOKEN"},
        "403": {"FORBIDDEN"},
        "409": {"TOO_MANY_OPEN_REQUESTS"},
        "422": {"SCHEDULE_TOO_SOON", "SCHEDULE_TOO_FAR"},
    },
    ("get", "/api/interview-requests/open"): {
        "200": set(),
        "401": {"NOT_AUTHENTICATED"},
        "403": {"FORBIDDEN"},
        "422": set(),
    },
    ("get", "/api/interview-requests/mine"): {
        "200": set(),
        "401": {"NOT_AUTHENTICATED"},
        "422": set(),
    },
    ("get", "/api/interview-requests/{request_id}"): {
        "200": set(),
        "401": {"NOT_AUTHENTICATED"},
        "404": {"REQUEST_NOT_FOUND"},
    },
    ("post", "/api/interview-requests/{request_id}/accept"): {
        "201": set(),
        "401": {"NOT_AUTHENTICATED"},
        "403": {"FORBIDDEN", "SELF_ACCEPT"},
        "404": {"REQUEST_NOT_FOUND"},
        "409": {"REQUEST_NOT_OPEN", "REQUEST_EXPIRED", "SCHEDULE_CONFLICT"},
    },
    ("post", "/api/interview-requests/{request_id}/cancel"): {
        "200": set(),
        "401": {"NOT_AUTHENTICATED"},
        "404": {"REQUEST_NOT_FOUND"},
        "409": {"REQUEST_NOT_OPEN"},
    },
    ("get", "/api/interview-sessions"): {"200": set(), "401": {"NOT_AUTHENTICATED"}, "422": set()},
    ("get", "/api/interview-sessions/{session_id}"): {
        "200": set(),
        "401": {"NOT_AUTHENTICATED"},
        "404": {"SESSION_NOT_FOUND"},
    },
    ("post", "/api/interview-sessions/{session_id}/join"): {
        "200": set(),
        "401": {"NOT_AUTHENTICATED"},
        "404": {"SESSION_NOT_FOUND"},
        "409": {"INVALID_SESSION_STATE"},
    },
    ("post", "/api/interview-sessions/{session_id}/start"): {
        "200": set(),
        "401": {"NOT_AUTHENTICATED"},
        "403": {"NOT_SESSION_INTERVIEWER"},
        "404": {"SESSION_NOT_FOUND"},
        "409": {"INVALID_SESSION_STATE", "TOO_EARLY"},
    },
    ("post", "/api/interview-sessions/{session_id}/extend"): {
        "200": set(),
        "401": {"NOT_AUTHENTICATED"},
        "403": {"NOT_SESSION_INTERVIEWER"},
        "404": {"SESSION_NOT_FOUND"},
        "409": {"INVALID_SESSION_STATE", "EXTENSION_LIMIT"},
        "422": set(),
    },
    ("post", "/api/interview-sessions/{session_id}/end"): {
        "200": set(),
        "401": {"NOT_AUTHENTICATED"},
        "403": {"NOT_SESSION_INTERVIEWER"},
        "404": {"SESSION_NOT_FOUND"},
        "409": {"INVALID_SESSION_STATE"},
    },
    ("post", "/api/interview-sessions/{session_id}/cancel"): {
        "200": set(),
        "401": {"NOT_AUTHENTICATED"},
        "404": {"SESSION_NOT_FOUND"},
        "409": {"INVALID_SESSION_STATE"},
        "422": set(),
    },
    ("get", "/api/interview-sessions/{session_id}/calendar.ics"): {
        "200": set(),
        "401": {"NOT_AUTHENTICATED"},
        "404": {"SESSION_NOT_FOUND"},
    },
}


@pytest.fixture
async def schema(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/openapi.json")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_every_route_lists_its_error_responses(schema: dict[str, Any]) -> None:
    for (method, path), expected in EXPECTED.items():
        where = f"{method.upper()} {path}"
        operation = schema["paths"][path][method]
        responses = operation["responses"]
        for status, codes in expected.items():
            assert status in responses, f"{where} does not document {status}"
            described = responses[status].get("description", "")
            for code in codes:
                assert f"`{code}`" in described, f"{where} {status} lacks {code}"
            if status.startswith("4") and codes:
                assert "application/problem+json" in responses[status]["content"], where
        assert operation.get("summary"), f"{where} has no summary"
        # The success status is the one the route really answers with.
        successes = {s for s in responses if s.startswith("2")}
        assert successes == {s for s in expected if s.startswith("2")}, where


async def test_calendar_documents_text_calendar(schema: dict[str, Any]) -> None:
    ok = schema["paths"]["/api/interview-sessions/{session_id}/calendar.ics"]["get"]["responses"]
    assert "text/calendar" in ok["200"]["content"]


async def test_bodies_are_documented(schema: dict[str, Any]) -> None:
    paths = schema["paths"]
    assert "requestBody" in paths["/api/interview-requests"]["post"]
    assert "requestBody" in paths["/api/interview-sessions/{session_id}/extend"]["post"]
    params = {p["name"] for p in paths["/api/interview-requests/open"]["get"].get("parameters", [])}
    assert {"category", "difficulty", "type", "from", "to", "limit", "cursor"} <= params


async def test_error_bodies_are_documented_as_problem_json(schema: dict[str, Any]) -> None:
    responses = schema["paths"]["/api/interview-sessions/{session_id}/extend"]["post"]["responses"]
    for status in ("404", "422"):
        content = responses[status]["content"]
        assert set(content) == {"application/problem+json"}, status
        assert content["application/problem+json"].get("schema"), status
