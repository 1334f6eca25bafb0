"""Practice sessions in tests: bank questions of their own category, a start in one line,
and the interviewee's socket."""

from __future__ import annotations

from typing import Any, cast

import httpx
from fastapi import FastAPI

from peerview.practice.interviewer import Interviewer
from tests.factories import Factory, TestUser
from tests.realtime.support import Peer
from tests.session_questions.support import bank_question

# No starter question is of this category: each test's bank is what it makes.
CATEGORY = "practice-trees"


async def practice_question(factory: Factory, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"category": CATEGORY, "difficulty": "MEDIUM", "type": "CODING"}
    return await bank_question(factory, **{**values, **fields})


async def start(
    factory: Factory, user: TestUser, *, expect: int = 201, **fields: Any
) -> httpx.Response:
    body = {"category": CATEGORY, "difficulty": "MEDIUM", "type": "CODING", **fields}
    response = await factory.client.post("/api/practice-sessions", json=body, headers=user.headers)
    assert response.status_code == expect, response.text
    return response


async def started(factory: Factory, user: TestUser, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = (await start(factory, user, **fields)).json()
    return body


async def transcript(factory: Factory, user: TestUser, session_id: str) -> list[dict[str, Any]]:
    response = await factory.client.get(
        f"/api/practice-sessions/{session_id}/transcript", headers=user.headers
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def practice_of(factory: Factory, user: TestUser, session_id: str) -> dict[str, Any]:
    response = await factory.client.get(
        f"/api/practice-sessions/{session_id}", headers=user.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def interviewer_of(app: FastAPI) -> Interviewer:
    return cast(Interviewer, app.services.practice)  # type: ignore[attr-defined]


async def joined_peer(url: str, user: TestUser, session_id: str) -> Peer:
    peer = await Peer(url, user.token).connect()
    ack = await peer.join(session_id)
    assert ack["ok"] is True, ack
    return peer


async def say(peer: Peer, session_id: str, text: str, *, hint: bool = False) -> Any:
    return await peer.call(
        "practice_message", {"session_id": session_id, "text": text, "hint": hint}
    )


async def reply_to(
    peer: Peer, app: FastAPI, session_id: str, text: str, *, hint: bool = False
) -> dict[str, Any]:
    """Say `text` and wait for the interviewer's answer; that answer's message."""
    before = len(_interviewer_messages(peer))
    ack = await say(peer, session_id, text, hint=hint)
    assert ack["ok"] is True, ack
    await interviewer_of(app).idle()
    await peer.barrier()
    messages = _interviewer_messages(peer)
    assert len(messages) > before, peer.received["practice_message"]
    return messages[-1]


def _interviewer_messages(peer: Peer) -> list[dict[str, Any]]:
    return [
        e["message"]
        for e in peer.received["practice_message"]
        if e["message"]["role"] != "candidate"
    ]
