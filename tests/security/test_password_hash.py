"""No answer of any endpoint ever contains a password hash, across a full flow.

Every response the client receives is recorded by an httpx hook while a flow touches
registration, login, profile and password changes, the admin's user views, the interview
lifecycle, feedback, notifications and analytics, successes and refusals alike. The contract
fuzzing applies the same check to every fuzzed answer (tests/contract/support.py).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from fastapi import FastAPI

from tests.contract.support import ARGON2_HASH
from tests.factories import Factory
from tests.flow import completed

PASSWORD = "correct horse battery"


async def test_no_response_of_a_full_flow_contains_a_password_hash(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    seen: list[httpx.Response] = []

    async def record(response: httpx.Response) -> None:
        await response.aread()
        seen.append(response)

    client.event_hooks["response"].append(record)
    admin = await factory.admin()

    registered = await client.post(
        "/api/auth/register",
        json={
            "name": "Pat",
            "email": "pat@example.com",
            "password": PASSWORD,
            "role": "INTERVIEWER",
        },
    )
    assert registered.status_code == 201
    pat = {"Authorization": f"Bearer {registered.json()['access_token']}"}
    duplicate = {
        "name": "Pat",
        "email": "PAT@example.com",
        "password": PASSWORD,
        "role": "INTERVIEWER",
    }
    await client.post("/api/auth/register", json=duplicate)
    await client.post("/api/auth/login", json={"email": "pat@example.com", "password": "wrong one"})
    await client.post("/api/auth/login", json={"email": "pat@example.com", "password": PASSWORD})
    await client.post("/api/auth/token", data={"username": "pat@example.com", "password": PASSWORD})
    await client.get("/api/auth/me", headers=pat)
    await client.patch("/api/users/me", json={"name": "Patricia"}, headers=pat)
    await client.patch(
        "/api/users/me",
        json={"password": "another good one", "current_password": "not it"},
        headers=pat,
    )
    changed = await client.patch(
        "/api/users/me",
        json={"password": "another good one", "current_password": PASSWORD},
        headers=pat,
    )
    assert changed.status_code == 200
    user_id = changed.json()["id"]
    await client.get("/api/users", headers=admin.headers)
    await client.get(f"/api/users/{user_id}", headers=admin.headers)
    await client.patch(f"/api/users/{user_id}", json={"is_active": False}, headers=admin.headers)
    await client.get(f"/api/users/{user_id}", headers=admin.headers)

    flow = await completed(factory, scheduled_in=timedelta(days=2))
    ratings = {"communication": 4, "problem_solving": 4, "technical": 4, "overall": 4}
    for author in (flow.interviewer, flow.interviewee):
        await client.post(
            "/api/feedback",
            json={"session_id": flow.id, "ratings": ratings, "comments": "Good"},
            headers=author.headers,
        )
    for person in (flow.interviewer, flow.interviewee, admin):
        for url in (
            f"/api/interview-sessions/{flow.id}",
            f"/api/feedback/session/{flow.id}",
            "/api/feedback/received",
            "/api/interview-sessions",
            "/api/interview-requests/mine",
            "/api/notifications",
            "/api/analytics/me",
            f"/api/users/{flow.interviewer.id}",
        ):
            await client.get(url, headers=person.headers)
    await client.get("/api/analytics/platform", headers=admin.headers)
    await client.post("/api/auth/logout", headers=flow.interviewee.headers)

    assert len(seen) >= 40
    for response in seen:
        assert not ARGON2_HASH.search(response.text), response.request.url
        if "json" in response.headers.get("content-type", ""):
            assert not _keys(response.json()) & {"password", "password_hash"}, response.request.url


def _keys(value: Any) -> set[str]:
    """Every key of every object in a JSON document."""
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


async def test_the_pattern_searched_for_matches_the_hashes_peerview_stores(app: FastAPI) -> None:
    stored = await app.services.passwords.hash(PASSWORD)
    assert ARGON2_HASH.fullmatch(stored)
    assert not ARGON2_HASH.search('{"title": "$argon2"}')
