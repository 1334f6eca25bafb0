"""Two server processes sharing Redis: everything realtime crosses between them, once
(docs/api.md §8).

Each process is a real `peerview serve` on its own port, on the test's database (the SQLite
file migrated for this test, or PostgreSQL); their clocks are the system's, so this test
schedules its session minutes from now and sets the factory's clock to the present.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from peerview import tokens
from peerview.clock import FakeClock
from tests.factories import Factory, TestUser
from tests.realtime.support import peers
from tests.session_questions.support import bank_question
from tests.support.environment import TEST_SECRET
from tests.support.servers import peerview_process

OFFER = {"type": "offer", "sdp": "v=0 offer"}
ANSWER = {"type": "answer", "sdp": "v=0 answer"}
SETTLE = 0.1  # seconds for a stray duplicate to show up, were there one


def output_of(log: Path) -> str:
    return log.read_text(errors="replace")


async def until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        for _ in range(300):
            if process.poll() is not None:
                pytest.fail(f"server exited early:\n{output_of(log)}")
            try:
                if (await http.get("/api/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.05)
    pytest.fail(f"server did not answer:\n{output_of(log)}")


@asynccontextmanager
async def server_pair(
    redis_url: str, database_url: str, tmp_path: Path, **settings: str
) -> AsyncIterator[tuple[str, str]]:
    env = {
        **os.environ,
        "PEERVIEW_ENV": "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_SECRET,
        "REDIS_URL": redis_url,
        # Pub/sub channels are shared by every Redis database: this run gets its own.
        "SOCKETIO_CHANNEL": f"peerview-test-{uuid.uuid4().hex}",
        "SWEEPER_ENABLED": "false",
        "REQUEST_EXPIRY_BUFFER_HOURS": "0.001",
        "LOG_LEVEL": "WARNING",
        **settings,
    }
    env.pop("CORS_ORIGINS", None)
    env.pop("SMTP_URL", None)
    first_log, second_log = tmp_path / "first.log", tmp_path / "second.log"
    with (
        peerview_process(env, first_log, migrate=False) as (first, first_process),
        peerview_process(env, second_log, migrate=False) as (second, second_process),
    ):
        await until_healthy(first, first_process, first_log)
        await until_healthy(second, second_process, second_log)
        yield first, second


@pytest.fixture
async def two_servers(
    redis_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    async with server_pair(redis_url, database_url, tmp_path) as urls:
        yield urls


async def post(url: str, path: str, user: TestUser, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=url) as http:
        response = await http.post(path, json=body, headers=user.headers)
    assert response.status_code in (200, 201), response.text
    return response.json()


async def test_signals_presence_events_and_notifications_cross_processes_once(
    two_servers: tuple[str, str], factory: Factory, clock: FakeClock
) -> None:
    first, second = two_servers
    clock.set(datetime.now(UTC))  # tokens must be valid for the servers' real clocks
    interviewer = await factory.interviewer()
    interviewee = await factory.interviewee()

    async with (
        peers(first, interviewee.token) as (ee_first,),
        peers(second, interviewer.token, interviewee.token) as (er_second, ee_second),
    ):
        request = await post(
            first,
            "/api/interview-requests",
            interviewee,
            {
                "category": "graphs",
                "difficulty": "EASY",
                "scheduled_at": (datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
                "duration_minutes": 30,
            },
        )
        # Accepted through the second process: the interviewee's sockets on both hear of it.
        session = await post(second, f"/api/interview-requests/{request['id']}/accept", interviewer)
        for socket_ in (ee_first, ee_second):
            [note] = await socket_.wait_for("notification")
            assert note["kind"] == "REQUEST_ACCEPTED"

        assert (await ee_first.join(session["id"]))["peers"] == []
        joined = await er_second.join(session["id"])
        assert joined["peers"] == [interviewee.id]  # presence is shared through Redis
        [presence] = await ee_first.wait_for("presence")
        assert presence == {
            "session_id": session["id"],
            "user_id": interviewer.id,
            "state": "joined",
        }

        assert await er_second.send_signal(session["id"], "offer", OFFER) == {"ok": True}
        [offer] = await ee_first.wait_for("signal")
        assert offer == {
            "session_id": session["id"],
            "from": interviewer.id,
            "type": "offer",
            "data": OFFER,
        }
        assert await ee_first.send_signal(session["id"], "answer", ANSWER) == {"ok": True}
        [answer] = await er_second.wait_for("signal")
        assert answer == {
            "session_id": session["id"],
            "from": interviewee.id,
            "type": "answer",
            "data": ANSWER,
        }

        # Started through the first process: one `session` event on every socket of both.
        await post(first, f"/api/interview-sessions/{session['id']}/start", interviewer)
        for socket_ in (ee_first, ee_second, er_second):
            [event] = await socket_.wait_for("session")
            assert event["event"] == "started"
            assert event["session"]["status"] == "LIVE"
        for socket_ in (ee_first, ee_second):
            await socket_.wait_for("notification", 2)

        # A question added through the first process: one `questions` event on every socket
        # of both, each as that participant sees it (the hints for the interviewer only).
        question = await bank_question(factory)
        path = f"/api/interview-sessions/{session['id']}/questions"
        await post(first, path, interviewer, {"question_id": question["id"]})
        for socket_ in (ee_first, ee_second, er_second):
            [event] = await socket_.wait_for("session", where=lambda e: e["event"] == "questions")
            [shown] = event["session"]["questions"]
            assert shown["title"] == question["title"]
            assert ("hints" in shown) is (socket_ is er_second)

        await ee_first.close()
        left = await er_second.wait_for("presence", where=lambda e: e["state"] == "left")
        # The interviewee's other socket never joined the room, so the interviewee left it.
        assert left == [{"session_id": session["id"], "user_id": interviewee.id, "state": "left"}]

        await asyncio.sleep(SETTLE)
        assert len(er_second.received["signal"]) == 1
        assert len(ee_first.received["signal"]) == 1
        assert [e["event"] for e in er_second.received["session"]] == ["started", "questions"]
        for socket_ in (ee_first, ee_second):
            assert [n["kind"] for n in socket_.received["notification"]] == [
                "REQUEST_ACCEPTED",
                "SESSION_STARTED",
            ]
            assert [e["event"] for e in socket_.received["session"]] == ["started", "questions"]
        assert er_second.received["notification"] == []


async def live_session_through(url: str, interviewer: TestUser, interviewee: TestUser) -> str:
    """A session requested, accepted and started through the process at `url`."""
    request = await post(
        url,
        "/api/interview-requests",
        interviewee,
        {
            "category": "graphs",
            "difficulty": "EASY",
            "scheduled_at": (datetime.now(UTC) + timedelta(minutes=10)).isoformat(),
            "duration_minutes": 30,
        },
    )
    session = await post(url, f"/api/interview-requests/{request['id']}/accept", interviewer)
    await post(url, f"/api/interview-sessions/{session['id']}/start", interviewer)
    return str(session["id"])


async def test_a_session_ended_through_one_process_relays_nothing_through_the_other_right_after(
    two_servers: tuple[str, str], factory: Factory, clock: FakeClock
) -> None:
    first, second = two_servers
    clock.set(datetime.now(UTC))
    interviewer = await factory.interviewer()
    interviewee = await factory.interviewee()
    session_id = await live_session_through(first, interviewer, interviewee)

    async with peers(second, interviewer.token, interviewee.token) as (caller, callee):
        for peer in (caller, callee):
            assert (await peer.join(session_id))["ok"] is True
        # The second process relays from what it cached at the joins.
        assert await caller.send_signal(session_id, "offer", OFFER) == {"ok": True}
        await callee.wait_for("signal")

        await post(first, f"/api/interview-sessions/{session_id}/end", interviewer)
        refused = await caller.send_signal(session_id, "offer", OFFER)
        assert refused == {"ok": False, "code": "INVALID_SESSION_STATE"}
        refused = await callee.send_signal(session_id, "answer", ANSWER)
        assert refused == {"ok": False, "code": "INVALID_SESSION_STATE"}
        # And the second process pushed the end to its own sockets.
        for peer in (caller, callee):
            [event] = await peer.wait_for("session")
            assert event["event"] == "ended"
            assert event["session"]["status"] == "COMPLETED"
        await callee.barrier()
        assert len(callee.received["signal"]) == 1
        assert caller.received["signal"] == []


# -- sockets follow the account, in every process (docs/api.md §8.4) ----------------------------

ENDS_WITHIN = 1.0  # seconds


async def test_a_logout_through_one_process_ends_that_tokens_socket_on_the_other_within_a_second(
    two_servers: tuple[str, str], factory: Factory, clock: FakeClock
) -> None:
    first, second = two_servers
    clock.set(datetime.now(UTC))
    interviewer = await factory.interviewer()
    interviewee = await factory.interviewee()
    session_id = await live_session_through(first, interviewer, interviewee)
    socket_token = factory.token_for(interviewer.id)  # this socket's own token, to be revoked

    async with peers(second, socket_token, interviewer.token, interviewee.token) as (
        caller,
        same_user,
        callee,
    ):
        for peer in (caller, callee):
            assert (await peer.join(session_id))["ok"] is True
        assert await caller.send_signal(session_id, "offer", OFFER) == {"ok": True}
        await callee.wait_for("signal")

        sent = time.monotonic()
        async with httpx.AsyncClient(base_url=first) as http:
            response = await http.post(
                "/api/auth/logout", headers={"Authorization": f"Bearer {socket_token}"}
            )
        assert response.status_code == 200, response.text
        assert await caller.ended(wait=ENDS_WITHIN) == {"code": "INVALID_TOKEN", "reason": "logout"}
        assert time.monotonic() - sent < ENDS_WITHIN
        # The room heard it leave; the user's other token and the other participant go on.
        left = await callee.wait_for("presence", where=lambda e: e["state"] == "left")
        assert left == [{"session_id": session_id, "user_id": interviewer.id, "state": "left"}]
        assert (await same_user.join(session_id))["ok"] is True
        assert await callee.send_signal(session_id, "answer", ANSWER) == {"ok": True}
        [answer] = await same_user.wait_for("signal")
        assert answer["from"] == interviewee.id
        assert same_user.received["access_revoked"] == []


async def test_a_password_change_through_one_process_ends_older_tokens_sockets_on_the_other(
    two_servers: tuple[str, str], factory: Factory, clock: FakeClock
) -> None:
    first, second = two_servers
    clock.set(datetime.now(UTC))
    user = await factory.interviewee()
    older = factory.token_for(user.id)

    async with peers(second, older) as (old_socket,):
        async with httpx.AsyncClient(base_url=first) as http:
            response = await http.patch(
                "/api/users/me",
                json={"password": "a brand new password", "current_password": user.password},
                headers=user.headers,
            )
        answered = time.monotonic()
        assert response.status_code == 200, response.text
        clock.set(datetime.now(UTC))
        newer = factory.token_for(user.id)  # logged in again after the change
        async with peers(second, newer) as (new_socket,):
            notice = await old_socket.ended(wait=ENDS_WITHIN)
            assert notice == {"code": "INVALID_TOKEN", "reason": "password_changed"}
            assert time.monotonic() - answered < ENDS_WITHIN
            await asyncio.sleep(SETTLE)
            await new_socket.barrier()
            assert new_socket.client.connected
            assert new_socket.received["access_revoked"] == []


async def test_a_deactivation_through_one_process_ends_the_accounts_sockets_on_both(
    two_servers: tuple[str, str], factory: Factory, clock: FakeClock
) -> None:
    first, second = two_servers
    clock.set(datetime.now(UTC))
    admin = await factory.admin()
    user = await factory.interviewer()
    bystander = await factory.interviewee()

    async with (
        peers(first, user.token) as (on_first,),
        peers(second, user.token, factory.token_for(user.id), bystander.token) as (
            on_second,
            other_tab,
            kept,
        ),
    ):
        sent = time.monotonic()
        async with httpx.AsyncClient(base_url=first) as http:
            response = await http.patch(
                f"/api/users/{user.id}", json={"is_active": False}, headers=admin.headers
            )
        assert response.status_code == 200, response.text
        for socket_ in (on_first, on_second, other_tab):
            notice = await socket_.ended(wait=ENDS_WITHIN)
            assert notice == {"code": "INVALID_TOKEN", "reason": "deactivated"}
        assert time.monotonic() - sent < ENDS_WITHIN
        await kept.barrier()
        assert kept.client.connected
        assert kept.received["access_revoked"] == []


TOKEN_SECONDS = 3


@pytest.fixture
async def two_servers_with_short_tokens(
    redis_url: str, database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[str, str]]:
    async with server_pair(
        redis_url, database_url, tmp_path, ACCESS_TOKEN_MINUTES=str(TOKEN_SECONDS / 60)
    ) as urls:
        yield urls


async def test_a_socket_on_another_process_ends_within_a_second_of_its_tokens_expiry(
    two_servers_with_short_tokens: tuple[str, str], factory: Factory, clock: FakeClock
) -> None:
    """The servers' own clocks and lifetimes: a token logged in on one process, its socket on
    the other, ended once the token's `exp` has passed and not before."""
    first, second = two_servers_with_short_tokens
    clock.set(datetime.now(UTC))
    user = await factory.interviewee()
    async with httpx.AsyncClient(base_url=first) as http:
        response = await http.post(
            "/api/auth/login", json={"email": user.email, "password": user.password}
        )
    assert response.status_code == 200, response.text
    token = response.json()["access_token"]
    expires_at = tokens.decode(token, secret=TEST_SECRET, now=datetime.now(UTC)).expires_at

    async with peers(second, token, user.token) as (expiring, lasting):
        notice = await expiring.ended(wait=TOKEN_SECONDS + ENDS_WITHIN + 1)
        ended_at = datetime.now(UTC)
        assert notice == {"code": "INVALID_TOKEN", "reason": "expired"}
        assert expires_at <= ended_at <= expires_at + timedelta(seconds=ENDS_WITHIN)
        await lasting.barrier()
        assert lasting.client.connected
