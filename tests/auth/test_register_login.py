"""Registration and login (SPEC §3)."""

from __future__ import annotations

import httpx

from peerview.clock import FakeClock


async def test_register_returns_user_and_token(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/api/auth/register",
        json={
            "name": "Ada",
            "email": "Ada@Example.com",
            "password": "s3cret-pass",
            "role": "INTERVIEWEE",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["user"]["email"] == "ada@example.com"
    assert body["user"]["role"] == "INTERVIEWEE"
    me = await client.get(
        "/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["id"] == body["user"]["id"]


async def test_login_with_right_password(client: httpx.AsyncClient, clock: FakeClock) -> None:
    await client.post(
        "/api/auth/register",
        json={
            "name": "Bo",
            "email": "bo@example.com",
            "password": "s3cret-pass",
            "role": "INTERVIEWER",
        },
    )
    response = await client.post(
        "/api/auth/login", json={"email": "BO@example.com", "password": "s3cret-pass"}
    )
    assert response.status_code == 200
    assert response.json()["user"]["role"] == "INTERVIEWER"
