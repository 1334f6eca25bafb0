"""`peerview serve --workers 2`: every Socket.IO request reaches the worker holding its session.

The kernel hands each connection to either worker; a request naming a session of the other
worker is passed to it (realtime/routing.py). These tests use a real `peerview serve` with
two workers sharing Redis, and clients on their default options (long-polling first, then the
websocket upgrade), as browsers and the standard client connect.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from peerview.clock import FakeClock
from tests.factories import Factory
from tests.flow import accepted
from tests.realtime.support import JS_DIR, Peer
from tests.reliability.faults_support import server_env, until_healthy
from tests.support.servers import peerview_process

CONNECTIONS = 100
OFFER = {"type": "offer", "sdp": "v=0 offer"}


@pytest.fixture
async def two_workers(redis_url: str, database_url: str, tmp_path: Path) -> AsyncIterator[str]:
    env = server_env(
        database_url,
        REDIS_URL=redis_url,
        SOCKETIO_CHANNEL=f"peerview-test-{uuid.uuid4().hex}",
        # Every one of the test's connections comes from this machine's address.
        SOCKET_RATE_PER_SECOND="1000",
    )
    log = tmp_path / "workers.log"
    with peerview_process(env, log, migrate=False, workers=2) as (url, process):
        await until_healthy(url, process, log)
        await until_both_workers_answer(url)
        yield url


async def until_both_workers_answer(url: str) -> None:
    """The health check is answered by the first worker up; on a loaded machine the second
    may still be starting. Handshakes on fresh connections until both have answered one."""
    routes: set[str] = set()
    deadline = asyncio.get_running_loop().time() + 20
    while len(routes) < 2:
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"only one worker answers handshakes: {routes}")
        async with httpx.AsyncClient(base_url=url) as http:
            routes.add((await handshake(http)).split(".")[0])
        if len(routes) < 2:
            await asyncio.sleep(0.05)


async def handshake(http: httpx.AsyncClient) -> str:
    response = await http.get("/socket.io/", params={"EIO": "4", "transport": "polling"})
    assert response.status_code == 200, response.text
    opened = json.loads(response.text[1:])  # "0{…}": Engine.IO's open packet
    sid: str = opened["sid"]
    return sid


async def test_every_polling_request_of_a_session_reaches_its_worker(two_workers: str) -> None:
    """Twenty sessions, each posting and polling on fresh connections: none is refused."""
    routes: set[str] = set()
    for _ in range(20):
        # A new connection per request: each lands on whichever worker the kernel picks.
        async with httpx.AsyncClient(base_url=two_workers) as http:
            sid = await handshake(http)
        routes.add(sid.split(".")[0])
        for _ in range(3):
            async with httpx.AsyncClient(base_url=two_workers) as http:
                # A Socket.IO CONNECT without a token: the worker holding the session
                # answers it with a refusal, which only that worker can queue.
                posted = await http.post(
                    "/socket.io/",
                    params={"EIO": "4", "transport": "polling", "sid": sid},
                    content="40",
                )
            assert posted.status_code == 200, posted.text
        async with httpx.AsyncClient(base_url=two_workers) as http:
            polled = await http.get(
                "/socket.io/", params={"EIO": "4", "transport": "polling", "sid": sid}
            )
        assert polled.status_code == 200
        assert polled.text.startswith("44"), polled.text  # the connect error, CONNECT_ERROR
    assert len(routes) == 2, f"one worker answered every handshake: {routes}"


async def test_a_session_of_a_worker_that_is_gone_is_an_unknown_session(two_workers: str) -> None:
    async with httpx.AsyncClient(base_url=two_workers) as http:
        sid = await handshake(http)
        route = sid.split(".")[0]
        response = await http.get(
            "/socket.io/",
            params={"EIO": "4", "transport": "polling", "sid": f"{route}1.{sid}"},
        )
    assert response.status_code == 400


async def test_a_hundred_default_clients_connect_join_upgrade_and_relay(
    node: str, two_workers: str, factory: Factory, clock: FakeClock, tmp_path: Path
) -> None:
    clock.set(datetime.now(UTC))  # the workers check tokens against the real clock
    pairs = []
    for _ in range(CONNECTIONS // 2):
        flow = await accepted(factory)
        pairs.append(
            {
                "session_id": flow.id,
                "interviewer": flow.interviewer.token,
                "interviewee": flow.interviewee.token,
            }
        )
    pairs_file = tmp_path / "pairs.json"
    pairs_file.write_text(json.dumps(pairs))

    process = await asyncio.create_subprocess_exec(
        node,
        str(JS_DIR / "crowd.mjs"),
        two_workers,
        str(pairs_file),
        cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE,
    )
    output, _ = await asyncio.wait_for(process.communicate(), 90)
    report: dict[str, Any] = json.loads(output)

    assert report["failures"] == []
    assert report["connections"] == CONNECTIONS
    assert report["connected"] == CONNECTIONS
    assert report["first_transports"] == ["polling"]  # the client's default: polling first
    assert report["relayed"] == CONNECTIONS // 2
    assert len(report["routes"]) == 2, report["routes"]  # both workers held sessions
    assert report["cross_process_pairs"] > 0


async def test_a_signal_crosses_between_clients_held_by_different_workers(
    two_workers: str, factory: Factory, clock: FakeClock
) -> None:
    """Python clients polling first, then upgraded (their default), on different workers, each
    polling request on a new connection (so on either worker)."""
    clock.set(datetime.now(UTC))
    flow = await accepted(factory)
    for _ in range(20):
        caller = Peer(two_workers, flow.interviewer.token, fresh_connections=True)
        callee = Peer(two_workers, flow.interviewee.token, fresh_connections=True)
        try:
            for peer in (caller, callee):
                await peer.client.connect(
                    two_workers, auth={"token": peer.token}, transports=["polling", "websocket"]
                )
            routes = {peer.client.eio.sid.split(".")[0] for peer in (caller, callee)}
            if len(routes) < 2:
                continue  # both on one worker: try again
            for peer in (caller, callee):
                assert (await peer.join(flow.id))["ok"] is True
                assert peer.client.transport() == "websocket"
            assert await caller.send_signal(flow.id, "offer", OFFER) == {"ok": True}
            [offer] = await callee.wait_for("signal")
            assert offer == {
                "session_id": flow.id,
                "from": flow.interviewer.id,
                "type": "offer",
                "data": OFFER,
            }
            return
        finally:
            await caller.close()
            await callee.close()
    pytest.fail("20 pairs of connections all landed on one worker")
