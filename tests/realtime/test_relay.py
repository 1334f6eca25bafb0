"""Relaying from the cache: no statement per signal, yet nothing relayed once it must not be."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from peerview import tokens
from peerview.db import Database
from peerview.events import SessionChanged
from peerview.jobs.sweeper import sweep_once
from peerview.realtime import server as realtime_server
from tests.factories import Factory, TestUser
from tests.flow import accepted, live
from tests.realtime.support import Peer, joined, peers
from tests.support.environment import TEST_SECRET

OFFER = {"type": "offer", "sdp": "v=0 offer"}
BURST = 60  # within the socket's burst allowance
INVALID_STATE = {"ok": False, "code": "INVALID_SESSION_STATE"}


@contextmanager
def statements(database: Database) -> Iterator[list[str]]:
    """The SQL of every statement run on `database` meanwhile."""
    seen: list[str] = []

    def record(sql: str, _in_transaction: bool) -> None:
        seen.append(sql)

    database.listeners.append(record)
    try:
        yield seen
    finally:
        database.listeners.remove(record)


def database_of(app: FastAPI) -> Database:
    database: Database = app.services.database
    return database


async def close(*sockets: Peer) -> None:
    for peer in sockets:
        await peer.close()


async def test_a_signal_burst_makes_no_database_statement(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    flows = [await accepted(factory) for _ in range(3)]
    pairs = [await joined(live_url, flow) for flow in flows]
    try:
        with statements(database_of(app)) as seen:
            acks = await asyncio.gather(
                *(
                    caller.send_signal(flow.id, "ice-candidate", {"n": n})
                    for (caller, _), flow in zip(pairs, flows, strict=True)
                    for n in range(BURST)
                )
            )
            for _, callee in pairs:
                await callee.wait_for("signal", BURST)
        assert acks == [{"ok": True}] * (BURST * len(flows))
        assert seen == []
    finally:
        await close(*(peer for pair in pairs for peer in pair))


async def test_a_live_session_past_its_hard_end_refuses_without_any_event_or_statement(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    flow = await live(factory)
    caller, callee = await joined(live_url, flow)
    try:
        assert await caller.send_signal(flow.id, "offer", OFFER) == {"ok": True}
        await callee.wait_for("signal")
        factory.clock.advance(hours=3)  # past hard_end_at; no sweeper runs
        with statements(database_of(app)) as seen:
            assert await caller.send_signal(flow.id, "offer", OFFER) == INVALID_STATE
        assert seen == []
        await callee.barrier()
        assert len(callee.received["signal"]) == 1
    finally:
        await close(caller, callee)


async def test_a_scheduled_session_past_the_no_show_deadline_refuses_without_any_event(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at + timedelta(minutes=10))
    caller, callee = await joined(live_url, flow)
    try:
        assert await callee.send_signal(flow.id, "offer", OFFER) == {"ok": True}
        factory.clock.advance(minutes=25)  # 35 minutes after scheduled_at: a no-show
        with statements(database_of(app)) as seen:
            assert await callee.send_signal(flow.id, "offer", OFFER) == INVALID_STATE
        assert seen == []
    finally:
        await close(caller, callee)


async def test_an_extension_moves_the_cached_hard_end(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)  # 60 minutes, hard end 30 minutes after the planned end
    caller, callee = await joined(live_url, flow)
    try:
        assert await caller.send_signal(flow.id, "offer", OFFER) == {"ok": True}
        response = await client.post(
            f"/api/interview-sessions/{flow.id}/extend",
            json={"minutes": 30},
            headers=flow.interviewer.headers,
        )
        assert response.status_code == 200, response.text
        factory.clock.advance(minutes=100)  # past the old hard end, before the new one
        assert await caller.send_signal(flow.id, "offer", OFFER) == {"ok": True}
        await callee.wait_for("signal", 2)
    finally:
        await close(caller, callee)


async def test_a_session_ended_by_the_sweeper_is_dropped_from_the_cache(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    flow = await live(factory)
    caller, callee = await joined(live_url, flow)
    realtime = app.services.realtime
    try:
        assert realtime.cache.room(flow.id) is not None
        factory.clock.advance(hours=3)
        result = await sweep_once(
            database=app.services.database,
            clock=factory.clock,
            settings=app.services.settings,
            events=app.services.events,
            notifier=app.services.notifier,
        )
        assert [r.id for r in result.auto_timed_out] == [flow.id]
        assert realtime.cache.room(flow.id) is None
        assert await caller.send_signal(flow.id, "offer", OFFER) == INVALID_STATE
    finally:
        await close(caller, callee)


def cached_standing(app: FastAPI, user: TestUser) -> bool | None:
    realtime = app.services.realtime
    claims = tokens.decode(user.token, secret=TEST_SECRET, now=realtime.clock.now())
    standing: bool | None = realtime.cache.token_valid(user.id, claims.jti)
    return standing


async def test_a_token_logged_out_after_it_was_cached_relays_nothing_more(
    live_url: str, app: FastAPI, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    caller, callee = await joined(live_url, flow)
    try:
        assert await caller.send_signal(flow.id, "offer", OFFER) == {"ok": True}
        assert cached_standing(app, flow.interviewer) is True
        response = await client.post("/api/auth/logout", headers=flow.interviewer.headers)
        assert response.status_code == 200, response.text
        # The socket is ended, and what the cache held about the token is dropped with it.
        assert await caller.ended() == {"code": "INVALID_TOKEN", "reason": "logout"}
        assert cached_standing(app, flow.interviewer) is None
        await callee.barrier()
        assert len(callee.received["signal"]) == 1
    finally:
        await close(caller, callee)


async def test_an_account_deactivated_after_its_token_was_cached_relays_nothing_more(
    live_url: str, app: FastAPI, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    admin = await factory.admin()
    caller, callee = await joined(live_url, flow)
    try:
        assert await callee.send_signal(flow.id, "offer", OFFER) == {"ok": True}
        response = await client.patch(
            f"/api/users/{flow.interviewee.id}", json={"is_active": False}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        assert await callee.ended() == {"code": "INVALID_TOKEN", "reason": "deactivated"}
        assert cached_standing(app, flow.interviewee) is None
        # Active again: the same token connects and relays again, the cache is not left behind.
        response = await client.patch(
            f"/api/users/{flow.interviewee.id}", json={"is_active": True}, headers=admin.headers
        )
        assert response.status_code == 200, response.text
        async with peers(live_url, flow.interviewee.token) as (again,):
            assert (await again.join(flow.id))["ok"]
            assert await again.send_signal(flow.id, "offer", OFFER) == {"ok": True}
    finally:
        await close(caller, callee)


async def test_a_password_change_cuts_off_a_cached_token(
    live_url: str, app: FastAPI, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    caller, callee = await joined(live_url, flow)
    try:
        assert await caller.send_signal(flow.id, "offer", OFFER) == {"ok": True}
        factory.clock.advance(seconds=1)  # the change comes after the token was issued
        response = await client.patch(
            "/api/users/me",
            json={
                "password": "a brand new password",
                "current_password": flow.interviewer.password,
            },
            headers=flow.interviewer.headers,
        )
        assert response.status_code == 200, response.text
        assert await caller.ended() == {"code": "INVALID_TOKEN", "reason": "password_changed"}
        assert cached_standing(app, flow.interviewer) is None
    finally:
        await close(caller, callee)


async def test_a_lifecycle_change_loads_nothing_when_no_participant_is_connected(
    factory: Factory, app: FastAPI
) -> None:
    flow = await accepted(factory)
    event = SessionChanged(
        event="cancelled",
        session_id=flow.id,
        interviewer_id=flow.interviewer.id,
        interviewee_id=flow.interviewee.id,
        end_reason="CANCELLED_BY_INTERVIEWEE",
        actor_id=flow.interviewee.id,
        at=factory.clock.now(),
        created_at=factory.clock.now(),
    )
    with statements(database_of(app)) as seen:
        await app.services.realtime.after_commit(event)
    assert seen == []


async def test_only_connected_participants_views_are_loaded_for_a_push(
    live_url: str,
    factory: Factory,
    client: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flow = await accepted(factory)
    loaded: list[str] = []
    viewer = realtime_server.users_service.viewer

    async def spied(**kwargs: Any) -> Any:
        loaded.append(kwargs["user_id"])
        return await viewer(**kwargs)

    monkeypatch.setattr(realtime_server.users_service, "viewer", spied)
    async with peers(live_url, flow.interviewee.token) as (interviewee,):
        response = await client.post(
            f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewer.headers
        )
        assert response.status_code == 200, response.text
        [event] = await interviewee.wait_for("session")
    assert event["event"] == "cancelled"
    assert event["session"]["id"] == flow.id
    assert loaded == [flow.interviewee.id]
