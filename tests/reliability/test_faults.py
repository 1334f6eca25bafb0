"""Infrastructure faults: PostgreSQL restarted under load, Redis stopped and started again.

One real `peerview serve` process runs on a private PostgreSQL cluster and a private
`redis-server` that these tests own (tests/reliability/faults_support.py); the shared
services are never touched. These tests bring their own services and do not use the suite's
database, so they run once, in the SQLite pass of `make test`; the PostgreSQL pass skips
them. Without the PostgreSQL binaries or redis-server they skip, or fail when
PEERVIEW_REQUIRE_SERVICES=1 (CI). `pytest -s` prints the figures of each restart.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from peerview import tokens
from peerview.clock import FakeClock
from peerview.migrate import upgrade
from peerview.realtime.presence import FallbackPresence, MemoryPresence
from tests.platform.apps import assert_problem, bearer, extra_app
from tests.realtime.support import Peer
from tests.reliability.faults_support import (
    RECOVERY_BOUND,
    Missing,
    Outcome,
    PrivatePostgres,
    PrivateRedis,
    Restart,
    heard_from_another_process,
    is_problem_503,
    postgres_bindir,
    postgres_refusing,
    postgres_silent,
    redis_server_binary,
    register,
    restart_under_load,
    schedule_session,
    server_env,
    text_of,
    timed,
    until_healthy,
)
from tests.support.environment import (
    POSTGRES_URL,
    REQUIRE_SERVICES,
    TEST_SECRET,
    in_thread,
    test_settings,
)
from tests.support.servers import peerview_process

LOAD_CLIENTS = 8
WRONG_PASSWORD = "wrong password!"
# An operation while Redis is down answers within this (no retry storm against a dead Redis).
REDIS_DOWN_BOUND = 2.0


@dataclass
class Stack:
    url: str
    log: Path
    postgres: PrivatePostgres
    redis: PrivateRedis
    channel: str
    interviewee: dict[str, Any]
    interviewer: dict[str, Any]

    @property
    def users(self) -> list[dict[str, Any]]:
        return [self.interviewee, self.interviewer]


def _require_binaries() -> tuple[Path, str]:
    if POSTGRES_URL:
        pytest.skip("bring their own PostgreSQL and Redis: they run once, in the SQLite pass")
    try:
        return postgres_bindir(), redis_server_binary()
    except Missing as exc:
        if REQUIRE_SERVICES:
            pytest.fail(f"fault tests need it: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    bindir, redis_binary = _require_binaries()
    postgres = PrivatePostgres(bindir)
    redis = PrivateRedis(redis_binary)
    log = tmp_path_factory.mktemp("faults") / "peerview.log"
    channel = f"peerview-faults-{uuid.uuid4().hex}"
    env = server_env(
        postgres.url,
        REDIS_URL=redis.url,
        SOCKETIO_CHANNEL=channel,
        REQUEST_EXPIRY_BUFFER_HOURS="0.001",
    )
    try:
        # The server starts (imports) while the cluster is made, then the test migrates it.
        with peerview_process(env, log, migrate=False) as (url, process):
            await asyncio.to_thread(postgres.init)
            await asyncio.to_thread(postgres.start)
            await asyncio.to_thread(redis.start)
            in_thread(upgrade, postgres.url)
            await until_healthy(url, process, log)
            async with httpx.AsyncClient(base_url=url) as http:
                interviewee = await register(http, f"ee-{uuid.uuid4().hex[:8]}@example.com")
                interviewer = await register(
                    http, f"er-{uuid.uuid4().hex[:8]}@example.com", role="INTERVIEWER"
                )
            yield Stack(url, log, postgres, redis, channel, interviewee, interviewer)
    finally:
        redis.close()
        postgres.close()


# -- PostgreSQL ------------------------------------------------------------------------------


def assert_restart(restart: Restart, in_flight: int) -> None:
    print(restart.summary())
    assert restart.hangs == [], [(o.path, o.error, o.took) for o in restart.hangs]
    assert restart.other_errors == [], [(o.path, o.status, o.body) for o in restart.other_errors]
    for outcome in restart.unavailable:
        assert "Traceback" not in json.dumps(outcome.body)
    # The requests held inside PostgreSQL when it stopped were answered at once: 503 when the
    # stop cut them. A fast stop ends the lock's holder and the waiters in no fixed order, so
    # there a waiter may get the lock and finish (200) before its own end; an immediate stop
    # cuts every one of them.
    cut = [o for o in restart.outcomes if o.sent < restart.stopped_at < o.answered]
    failed = [o for o in cut if not (o.status is not None and 200 <= o.status < 300)]
    if restart.mode == "immediate":
        assert len(failed) >= in_flight, [(o.status, o.body) for o in cut]
    assert all(is_problem_503(o) for o in failed), [(o.status, o.body) for o in failed]
    # While it was down, health said so.
    assert restart.health_while_down
    for health in restart.health_while_down:
        assert is_problem_503(health, "DATABASE_UNAVAILABLE"), (health.status, health.body)
    # Back within the bound, without restarting Peerview, and no 503 once the first 2xx came.
    first = restart.first_2xx_after_back
    assert first is not None
    assert first <= RECOVERY_BOUND
    recovered_at = restart.back_at + first
    late = [o for o in restart.outcomes if o.sent >= recovered_at and o.status != 200]
    assert late == [], [(o.status, o.body) for o in late]


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_postgresql_restarted_under_load(stack: Stack, mode: str) -> None:
    """`pg_ctl stop -m fast` (sessions terminated) and `-m immediate` (a crash, then recovery)."""
    try:
        restart = await restart_under_load(
            stack.postgres,
            stack.url,
            stack.users,
            clients=LOAD_CLIENTS,
            mode=mode,
            down_for=0.8,
            in_flight=3,
            steady=0.3,
            after=0.5,
        )
    finally:
        if not (stack.postgres.data / "postmaster.pid").exists():
            await asyncio.to_thread(stack.postgres.start)
    assert_restart(restart, in_flight=3)
    async with httpx.AsyncClient(base_url=stack.url) as http:
        health = await http.get("/api/health")
    assert health.status_code == 200, health.text
    assert health.json()["database"] == "ok"
    assert "unhandled error" not in text_of(stack.log)


@dataclass
class Answers:
    me: httpx.Response
    me_took: float
    health: httpx.Response


async def answers_over(url: str, clock: FakeClock, **settings: Any) -> Answers:
    """An authenticated request and a health check of an app whose database is at `url`."""
    app_settings = test_settings(url, **settings)
    async with extra_app(app_settings, clock) as app:
        token, _ = tokens.issue(
            secret=TEST_SECRET,
            subject=str(uuid.uuid4()),
            now=clock.now(),
            lifetime=timedelta(hours=1),
        )
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            started = time.monotonic()
            me = await asyncio.wait_for(http.get("/api/auth/me", headers=bearer(token)), 10)
            took = time.monotonic() - started
            health = await asyncio.wait_for(http.get("/api/health"), 10)
    return Answers(me=me, me_took=took, health=health)


@pytest.mark.parametrize(
    ("sqlstate", "message"),
    [
        ("57P03", "the database system is starting up"),
        ("53300", "sorry, too many clients already"),
    ],
)
async def test_a_database_refusing_connections_is_503(
    clock: FakeClock, sqlstate: str, message: str
) -> None:
    """A refused connection is a 503, not a 500: SQLSTATE 57P03 ("starting up", "shutting
    down") and 53300 (every connection slot taken).

    The window between `pg_ctl start` and PostgreSQL accepting connections is short; here
    a listener answers as PostgreSQL does in it, for as long as the test needs.
    """
    async with postgres_refusing(sqlstate, message) as url:
        answers = await answers_over(url, clock)
    body = assert_problem(answers.me, 503, "SERVICE_UNAVAILABLE")
    assert answers.me.headers["retry-after"] == "1"
    assert message not in json.dumps(body)  # nothing of the database's words leaks
    assert_problem(answers.health, 503, "DATABASE_UNAVAILABLE")


async def test_a_silent_database_is_a_503_within_the_connect_timeout(clock: FakeClock) -> None:
    """A server that accepts connections and never answers (frozen) holds no request long."""
    async with postgres_silent() as url:
        answers = await answers_over(url, clock, database_connect_timeout_seconds=0.5)
    assert_problem(answers.me, 503, "SERVICE_UNAVAILABLE")
    # The connect timeout, not asyncpg's default minute (the wait_for above would fail first).
    assert 0.4 < answers.me_took < 5, answers.me_took
    assert_problem(answers.health, 503, "DATABASE_UNAVAILABLE")


# -- Redis -----------------------------------------------------------------------------------


async def within(bound: float, outcome: Outcome) -> Outcome:
    assert outcome.error is None, outcome.error
    assert outcome.took <= bound, (outcome.path, outcome.took)
    return outcome


async def login(http: httpx.AsyncClient, email: str, password: str = WRONG_PASSWORD) -> Outcome:
    body = {"email": email, "password": password}
    return await within(REDIS_DOWN_BOUND, await timed(http, "POST", "/api/auth/login", json=body))


async def scheduled_session(
    http: httpx.AsyncClient, interviewee: dict[str, Any], interviewer: dict[str, Any]
) -> dict[str, Any]:
    """A request posted and accepted through the REST API, each within the bound."""
    session, steps = await schedule_session(http, interviewee, interviewer)
    for step in steps:
        await within(REDIS_DOWN_BOUND, step)
        assert step.status == 201, step.body
    assert session is not None
    return session


async def timed_call(peer: Peer, event: str, data: Any) -> Any:
    started = time.monotonic()
    ack = await peer.call(event, data)
    assert time.monotonic() - started <= REDIS_DOWN_BOUND, event
    return ack


async def test_redis_stopped_rest_realtime_and_throttling_carry_on(stack: Stack) -> None:
    interviewee, interviewer = stack.interviewee, stack.interviewer
    ee = await Peer(stack.url, interviewee["token"]).connect()
    er = await Peer(stack.url, interviewer["token"]).connect()
    store = Redis.from_url(stack.redis.url)
    try:
        await asyncio.to_thread(stack.redis.stop)

        # REST keeps serving, writes and their pushes included.
        async with httpx.AsyncClient(base_url=stack.url) as http:
            me = await within(
                REDIS_DOWN_BOUND,
                await timed(http, "GET", "/api/auth/me", headers=bearer(interviewee["token"])),
            )
            assert me.status == 200, me.body
            session = await scheduled_session(http, interviewee, interviewer)
        [note] = await ee.wait_for("notification")
        assert note["kind"] == "REQUEST_ACCEPTED"

        # Realtime on this process: join, presence, a signal relayed.
        joined = await timed_call(ee, "join", {"session_id": session["id"]})
        assert joined["ok"] is True, joined
        assert joined["peers"] == []
        joined = await timed_call(er, "join", {"session_id": session["id"]})
        assert joined["ok"] is True, joined
        assert joined["peers"] == [interviewee["id"]]
        [presence] = await ee.wait_for("presence")
        assert presence == {
            "session_id": session["id"],
            "user_id": interviewer["id"],
            "state": "joined",
        }
        offer = {"type": "offer", "sdp": "v=0 offer"}
        signal = {"session_id": session["id"], "type": "offer", "data": offer}
        assert await timed_call(er, "signal", signal) == {"ok": True}
        [relayed] = await ee.wait_for("signal")
        assert relayed == {
            "session_id": session["id"],
            "from": interviewer["id"],
            "type": "offer",
            "data": offer,
        }

        # Login throttling falls back to this process's counters, not to none.
        target = f"target-{uuid.uuid4().hex[:8]}@example.com"
        async with httpx.AsyncClient(base_url=stack.url) as http:
            for _ in range(10):
                assert (await login(http, target)).status == 401
            throttled = await login(http, target)
            right = await login(http, interviewer["email"], interviewer["password"])
        assert throttled.status == 429, throttled.body
        assert throttled.code == "TOO_MANY_LOGIN_ATTEMPTS"
        assert right.status == 200, right.body

        await asyncio.to_thread(stack.redis.start)

        # Throttling counts in Redis again.
        other = f"other-{uuid.uuid4().hex[:8]}@example.com"
        async with httpx.AsyncClient(base_url=stack.url) as http:
            assert (await login(http, other)).status == 401
        assert await store.zcard(f"peerview:login-failures:account:{other}") == 1
        # And what was counted while it was away is written back: the account throttled then
        # is still throttled, in Redis, for every process.
        assert await store.zcard(f"peerview:login-failures:account:{target}") == 10
        async with httpx.AsyncClient(base_url=stack.url) as http:
            assert (await login(http, target)).status == 429

        # Presence is written back to Redis (it restarted empty) at the next change.
        assert await timed_call(er, "leave", {"session_id": session["id"]}) == {"ok": True}
        joined = await timed_call(er, "join", {"session_id": session["id"]})
        assert joined["peers"] == [interviewee["id"]], joined
        shared = await store.hvals(f"peerview:presence:{session['id']}")
        assert sorted(v.decode() for v in shared) == sorted([interviewee["id"], interviewer["id"]])

        # Socket.IO publishes to Redis again, and hears the other processes again.
        pubsub = store.pubsub()
        await pubsub.subscribe(stack.channel)
        answer = {"type": "answer", "sdp": "v=0 answer"}
        assert await ee.send_signal(session["id"], "answer", answer) == {"ok": True}
        published = await _next_emit(pubsub, "signal")
        assert published["data"] == [
            {
                "session_id": session["id"],
                "from": interviewee["id"],
                "type": "answer",
                "data": answer,
            }
        ]
        await pubsub.aclose()
        heard_after = await heard_from_another_process(
            stack.redis.url, stack.channel, ee, interviewee["id"]
        )
        print(f"Redis back: another process's emit heard after {heard_after:.2f} s")
    finally:
        if stack.redis.process is None or stack.redis.process.poll() is not None:
            await asyncio.to_thread(stack.redis.start)
        await store.aclose()
        await ee.close()
        await er.close()
    assert "unhandled error" not in text_of(stack.log)


async def _next_emit(pubsub: Any, event: str) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if message is not None:
            data: dict[str, Any] = json.loads(message["data"])
            if data.get("event") == event:
                return data
    raise AssertionError(f"no {event} published to Redis")


class FlakyStore(MemoryPresence):
    """A shared presence store that can go down, and come back empty as a restarted Redis."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    def check(self) -> None:
        if self.down:
            raise ConnectionError("presence store down")

    async def add(self, session_id: str, sid: str, user_id: str) -> None:
        self.check()
        await super().add(session_id, sid, user_id)

    async def remove(self, session_id: str, sid: str) -> None:
        self.check()
        await super().remove(session_id, sid)

    async def users(self, session_id: str) -> set[str]:
        self.check()
        return await super().users(session_id)


async def test_presence_carries_on_without_its_store_and_is_written_back() -> None:
    shared = FlakyStore()
    presence = FallbackPresence(shared)
    await presence.add("s1", "sid-a", "alice")
    await presence.add("s1", "sid-gone", "gone")

    shared.down = True
    await presence.add("s1", "sid-b", "bob")
    await presence.remove("s1", "sid-gone")
    assert await presence.users("s1") == {"alice", "bob"}  # this process's sockets

    shared.down = False  # back, still holding what it had: the missed changes are written
    assert await presence.users("s1") == {"alice", "bob"}
    assert set(shared.entries()) == {("s1", "sid-a", "alice"), ("s1", "sid-b", "bob")}

    # Restarted empty while this process made no call: the next join in the session
    # writes every socket of this process in it again (and so does its next heartbeat,
    # tests/realtime/test_presence.py).
    shared._rooms.clear()
    await presence.add("s1", "sid-c", "carol")
    assert await shared.users("s1") == {"alice", "bob", "carol"}
    await presence.close()
