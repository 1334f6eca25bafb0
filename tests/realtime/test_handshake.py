"""Socket.IO handshake: the token is checked as REST checks it (docs/api.md §8)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest
import socketio

from peerview import metrics, tokens
from tests.factories import Factory
from tests.realtime.support import Peer


async def refused(url: str, token: str | None, **options: Any) -> Any:
    """Connect, expect a refusal, and return what the client was told."""
    peer = Peer(url, token, **options)
    try:
        with pytest.raises(socketio.exceptions.ConnectionError):
            await peer.connect()
    finally:
        await peer.close()
    return peer.connect_errors[-1] if peer.connect_errors else None


async def test_handshake_without_token_is_refused(live_url: str) -> None:
    error = await refused(live_url, None)
    assert error["data"] == {"code": "NOT_AUTHENTICATED"}


async def test_handshake_with_malformed_token_is_refused(live_url: str) -> None:
    error = await refused(live_url, "not-a-token")
    assert error["data"] == {"code": "INVALID_TOKEN"}


async def test_handshake_with_token_signed_by_another_key_is_refused(
    live_url: str, factory: Factory
) -> None:
    user = await factory.interviewee()
    forged, _ = tokens.issue(
        secret="another-secret-0123456789abcdef0123456789",
        subject=user.id,
        now=factory.clock.now(),
        lifetime=timedelta(hours=1),
    )
    error = await refused(live_url, forged)
    assert error["data"] == {"code": "INVALID_TOKEN"}


async def test_handshake_with_revoked_token_is_refused(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    user = await factory.interviewee()
    response = await client.post("/api/auth/logout", headers=user.headers)
    assert response.status_code == 200, response.text
    error = await refused(live_url, user.token)
    assert error["data"] == {"code": "INVALID_TOKEN"}


async def test_handshake_of_deactivated_user_is_refused(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    admin = await factory.admin()
    user = await factory.interviewer()
    response = await client.patch(
        f"/api/users/{user.id}", json={"is_active": False}, headers=admin.headers
    )
    assert response.status_code == 200, response.text
    error = await refused(live_url, user.token)
    assert error["data"] == {"code": "INVALID_TOKEN"}


async def test_handshake_with_token_older_than_password_change_is_refused(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    user = await factory.interviewee()
    factory.clock.advance(seconds=1)
    response = await client.patch(
        "/api/users/me",
        json={"password": "a brand new password", "current_password": user.password},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    error = await refused(live_url, user.token)
    assert error["data"] == {"code": "INVALID_TOKEN"}


async def test_handshake_with_valid_token_connects(live_url: str, factory: Factory) -> None:
    user = await factory.interviewee()
    peer = await Peer(live_url, user.token).connect()
    try:
        assert peer.client.connected
    finally:
        await peer.close()


async def test_handshake_from_a_foreign_origin_is_refused(live_url: str, factory: Factory) -> None:
    user = await factory.interviewee()
    # Engine.IO turns the origin away before Socket.IO sees the token: a bare HTTP error.
    error = await refused(live_url, user.token, headers={"Origin": "https://evil.example"})
    assert not isinstance(error, dict)


async def test_handshake_from_an_allowed_origin_connects(live_url: str, factory: Factory) -> None:
    user = await factory.interviewee()
    peer = Peer(live_url, user.token, headers={"Origin": "https://app.peerview.test"})
    try:
        await peer.connect()
        assert peer.client.connected
    finally:
        await peer.close()


async def test_connected_sockets_gauge_follows_connections(live_url: str, factory: Factory) -> None:
    user = await factory.interviewee()
    before = metrics.CONNECTED_SOCKETS._value.get()
    peer = await Peer(live_url, user.token).connect()
    try:
        assert metrics.CONNECTED_SOCKETS._value.get() == before + 1
    finally:
        await peer.close()
    # The server sees the close a moment later; a refused handshake never counted.
    for _ in range(50):
        if metrics.CONNECTED_SOCKETS._value.get() == before:
            break
        await asyncio.sleep(0.02)
    assert metrics.CONNECTED_SOCKETS._value.get() == before
