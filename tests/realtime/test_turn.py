"""TURN credentials in coturn's `use-auth-secret` scheme, handed out on join."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.interview_sessions.realtime_info import ice_servers, turn_credentials
from tests.factories import Factory
from tests.flow import accepted
from tests.platform.apps import extra_app
from tests.realtime.support import peers, serve

SECRET = "coturn-static-auth-secret"
TURN_URLS = "turn:turn.peerview.test:3478?transport=udp,turns:turn.peerview.test:5349"


def coturn_accepts(username: str, credential: str, secret: str) -> bool:
    """What coturn computes for use-auth-secret: base64(HMAC-SHA1(secret, username))."""
    expected = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return hmac.compare_digest(base64.b64decode(credential), expected)


def with_turn(settings: Settings, **extra: object) -> Settings:
    return settings.model_copy(update={"turn_secret": SECRET, "turn_urls": TURN_URLS, **extra})


@pytest.fixture
async def turn_app(settings: Settings, clock: FakeClock) -> AsyncIterator[FastAPI]:
    async with extra_app(with_turn(settings, turn_ttl_seconds=600), clock) as application:
        yield application


def test_turn_credentials_verify_with_hmac_sha1(clock: FakeClock) -> None:
    username, credential = turn_credentials(
        secret=SECRET, user_id="user-1", now=clock.now(), ttl_seconds=3600
    )
    assert coturn_accepts(username, credential, SECRET)
    assert not coturn_accepts(username, credential, "another secret")


def test_turn_username_is_expiry_then_user_id(clock: FakeClock) -> None:
    username, _ = turn_credentials(secret=SECRET, user_id="user-1", now=clock.now(), ttl_seconds=90)
    expiry, user_id = username.split(":")
    assert user_id == "user-1"
    assert int(expiry) == int((clock.now() + timedelta(seconds=90)).timestamp())


def test_turn_credentials_expire_after_the_configured_ttl(
    settings: Settings, clock: FakeClock
) -> None:
    servers = ice_servers(settings=with_turn(settings), user_id="user-1", now=clock.now())
    turn = servers[-1]
    assert turn.username is not None
    assert int(turn.username.split(":")[0]) == int(clock.now().timestamp()) + 3600


def test_ice_servers_are_stun_then_turn(settings: Settings, clock: FakeClock) -> None:
    servers = ice_servers(settings=with_turn(settings), user_id="user-1", now=clock.now())
    assert [s.urls for s in servers] == [
        ["stun:stun.l.google.com:19302"],
        [
            "turn:turn.peerview.test:3478?transport=udp",
            "turns:turn.peerview.test:5349",
        ],
    ]
    assert servers[0].username is None


def test_no_turn_server_without_a_secret(settings: Settings, clock: FakeClock) -> None:
    configured = settings.model_copy(update={"turn_urls": TURN_URLS})
    servers = ice_servers(settings=configured, user_id="user-1", now=clock.now())
    assert [s.urls for s in servers] == [["stun:stun.l.google.com:19302"]]


async def test_rest_join_hands_out_turn_credentials_for_the_caller(
    turn_app: FastAPI, factory: Factory
) -> None:
    flow = await accepted(factory)
    transport = httpx.ASGITransport(app=turn_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.post(
            f"/api/interview-sessions/{flow.id}/join", headers=flow.interviewee.headers
        )
    assert response.status_code == 200, response.text
    turn = response.json()["ice_servers"][-1]
    expiry, user_id = turn["username"].split(":")
    assert user_id == flow.interviewee.id
    assert int(expiry) == int(factory.clock.now().timestamp()) + 600
    assert coturn_accepts(turn["username"], turn["credential"], SECRET)


async def test_socket_join_hands_out_turn_credentials(turn_app: FastAPI, factory: Factory) -> None:
    flow = await accepted(factory)
    async with serve(turn_app) as url, peers(url, flow.interviewer.token) as (peer,):
        ack = await peer.join(flow.id)
    turn = ack["ice_servers"][-1]
    assert turn["username"].endswith(f":{flow.interviewer.id}")
    assert coturn_accepts(turn["username"], turn["credential"], SECRET)
