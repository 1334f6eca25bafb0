"""A practice session across two `peerview serve` processes sharing Redis (docs/api.md §13.3,
§8.6): a message sent through one process is answered once, its streamed pieces and stored
messages reach the interviewee's sockets on both processes in order and once each, one answer
at a time holds across the processes, and the feedback of an end made through one process
reaches the sockets of both.

The servers run on the test's database with their own (system) clocks, and ask the fake model
server of this test over the loopback.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from peerview.clock import FakeClock
from tests.factories import Factory
from tests.practice.fake_llm import FakeLLM, Reply
from tests.practice.support import CATEGORY, practice_question
from tests.realtime.support import Peer, peers
from tests.realtime.test_two_processes import server_pair

TEXT = "Good. And what if the tree is empty?"


def once_each(peer: Peer, name: str) -> list[Any]:
    return [e["message"]["id"] for e in peer.received[name]]


async def test_a_practice_session_across_two_processes(
    redis_url: str,
    database_url: str,
    tmp_path: Path,
    factory: Factory,
    clock: FakeClock,
    fake_llm: FakeLLM,
) -> None:
    clock.set(datetime.now(UTC))  # tokens must be valid for the servers' real clocks
    await practice_question(factory)
    user = await factory.interviewee()
    fake_llm.script(Reply(TEXT, chunks=4, chunk_delay_seconds=0.1, usage=(100, 10)))
    settings = {"LLM_BASE_URL": fake_llm.url, "LLM_MODEL": "fake-model", "LLM_MAX_RETRIES": "0"}
    async with (
        server_pair(redis_url, database_url, tmp_path, **settings) as (first, second),
        httpx.AsyncClient(base_url=first) as http,
    ):
        started = await http.post(
            "/api/practice-sessions",
            json={"category": CATEGORY, "difficulty": "MEDIUM", "type": "CODING"},
            headers=user.headers,
        )
        assert started.status_code == 201, started.text
        session_id = started.json()["session"]["id"]
        async with (
            peers(first, user.token) as (on_first,),
            peers(second, user.token) as (on_second,),
        ):
            for socket_ in (on_first, on_second):
                assert (await socket_.join(session_id))["ok"] is True
            said = {"session_id": session_id, "text": "Depth first, counting levels."}
            ack = await on_second.call("practice_message", said)
            assert ack["ok"] is True, ack
            # While the second process is still answering, the first refuses another message.
            busy = await on_first.call("practice_message", {**said, "text": "Too soon."})
            assert busy == {"ok": False, "code": "REPLY_IN_PROGRESS"}
            for socket_ in (on_first, on_second):
                events = await socket_.wait_for("practice_message", 2)
                mine, reply = (e["message"] for e in events)
                assert mine["text"] == said["text"]
                assert (reply["text"], reply["source"]) == (TEXT, "MODEL")
                deltas = socket_.received["practice_delta"]
                assert [d["reply_id"] for d in deltas] == [reply["id"]] * 4
                assert "".join(d["text"] for d in deltas) == TEXT
            ended = await http.post(
                f"/api/interview-sessions/{session_id}/end", headers=user.headers
            )
            assert ended.status_code == 200, ended.text
            for socket_ in (on_first, on_second):
                [pushed] = await socket_.wait_for("practice_feedback")
                assert pushed["session_id"] == session_id
            await asyncio.sleep(0.1)  # a duplicate would have come by now
            for socket_ in (on_first, on_second):
                await socket_.barrier()
                ids = once_each(socket_, "practice_message")
                assert len(ids) == len(set(ids)) == 3  # the message, the reply, the closing
                assert len(socket_.received["practice_feedback"]) == 1
    assert len([r for r in fake_llm.requests if r.get("stream")]) == 1  # answered once
