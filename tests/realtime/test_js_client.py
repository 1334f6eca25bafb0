"""The standard JavaScript socket.io-client v4 against Peerview: handshake, join, offer/answer,
and a socket ended by a logout.

The client lives in tests/realtime/js (installed by `make test` with `npm ci`). Without node
or that install the test is skipped, and fails when PEERVIEW_REQUIRE_SERVICES=1 (CI).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx

from tests.factories import Factory
from tests.flow import accepted
from tests.realtime.support import JS_DIR, peers

OFFER = {"type": "offer", "sdp": "v=0 offer from python"}


class NodeClient:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.steps: list[dict[str, Any]] = []

    async def next(self, step: str) -> Any:
        """The data of the next line named `step` (earlier other lines are kept in `steps`)."""
        assert self.process.stdout is not None
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), 10)
            assert line, f"node exited before {step!r}: {self.steps}"
            parsed = json.loads(line)
            self.steps.append(parsed)
            if parsed["step"] == step:
                return parsed["data"]


async def run_node(node: str, *args: str) -> NodeClient:
    process = await asyncio.create_subprocess_exec(
        node,
        str(JS_DIR / "client.mjs"),
        *args,
        cwd=JS_DIR,
        stdout=asyncio.subprocess.PIPE,
    )
    return NodeClient(process)


async def test_javascript_client_joins_and_answers_an_offer(
    node: str, live_url: str, factory: Factory
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token) as (python,):
        assert (await python.join(flow.id))["ok"]
        js = await run_node(node, live_url, flow.interviewee.token, flow.id)
        try:
            connected = await js.next("connected")
            assert connected["transport"] in ("polling", "websocket")
            joined = await js.next("joined")
            assert joined["ok"] is True
            assert joined["peers"] == [flow.interviewer.id]
            assert joined["session"]["id"] == flow.id

            await python.wait_for("presence", where=lambda e: e["state"] == "joined")
            assert await python.send_signal(flow.id, "offer", OFFER) == {"ok": True}
            received = await js.next("signal")
            assert received == {
                "session_id": flow.id,
                "from": flow.interviewer.id,
                "type": "offer",
                "data": OFFER,
            }
            assert await js.next("answered") == {"ok": True}

            [answer] = await python.wait_for("signal")
            assert answer == {
                "session_id": flow.id,
                "from": flow.interviewee.id,
                "type": "answer",
                "data": {"type": "answer", "sdp": "v=0 answer from javascript"},
            }
            assert await asyncio.wait_for(js.process.wait(), 10) == 0
            await python.wait_for("presence", where=lambda e: e["state"] == "left")
        finally:
            if js.process.returncode is None:
                js.process.kill()
                await js.process.wait()


async def test_javascript_client_without_a_valid_token_is_refused(
    node: str, live_url: str, factory: Factory
) -> None:
    flow = await accepted(factory)
    js = await run_node(node, live_url, "not-a-token", flow.id)
    try:
        refused = await js.next("refused")
        assert refused["data"] == {"code": "INVALID_TOKEN"}
        assert await asyncio.wait_for(js.process.wait(), 10) == 0
    finally:
        if js.process.returncode is None:
            js.process.kill()
            await js.process.wait()


async def test_javascript_client_learns_why_a_logout_ended_its_socket(
    node: str, live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    js = await run_node(node, live_url, flow.interviewee.token, flow.id)
    try:
        assert (await js.next("joined"))["ok"] is True
        response = await client.post("/api/auth/logout", headers=flow.interviewee.headers)
        assert response.status_code == 200, response.text
        notice = await js.next("access_revoked")
        assert notice == {"code": "INVALID_TOKEN", "reason": "logout"}
        # Socket.IO's server-side disconnect: the client does not reconnect by itself.
        assert await js.next("disconnected") == {"reason": "io server disconnect"}
        assert await asyncio.wait_for(js.process.wait(), 10) == 0
    finally:
        if js.process.returncode is None:
            js.process.kill()
            await js.process.wait()
