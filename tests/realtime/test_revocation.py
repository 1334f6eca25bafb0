"""Sockets follow the account (docs/api.md §8.4): a logout, a password change, a deactivation
and a token's expiry end the sockets they concern, each told why; every event re-checks the
token, and a token found invalid ends its socket right after the answer."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from peerview.realtime import server as realtime_server
from peerview.realtime.bus import Announcement
from peerview.realtime.server import Realtime, user_room
from tests.factories import Factory, TestUser
from tests.flow import accepted
from tests.realtime.support import Peer, peers, silently_revoke

OFFER = {"type": "offer", "sdp": "v=0 offer"}
INVALID_TOKEN = {"ok": False, "code": "INVALID_TOKEN"}
NEW_PASSWORD = "a brand new password"


def realtime_of(app: FastAPI) -> Realtime:
    realtime: Realtime = app.services.realtime
    return realtime


def notice(reason: str) -> dict[str, str]:
    return {"code": "INVALID_TOKEN", "reason": reason}


async def still_served(app: FastAPI, user: TestUser, *kept: Peer) -> None:
    """Each socket in `kept` is connected, answers, and still gets its user's pushes."""
    marker = {"marker": f"for {user.id}"}
    await realtime_of(app).sio.emit("notification", marker, room=user_room(user.id))
    for peer in kept:
        assert peer.client.connected
        await peer.barrier()
        assert marker in peer.received["notification"]
        assert peer.received["access_revoked"] == []
        assert peer.disconnects == []


async def logout(client: httpx.AsyncClient, token: str) -> None:
    response = await client.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


# -- logout ----------------------------------------------------------------------------------


async def test_a_logout_ends_the_sockets_of_that_token_only(
    live_url: str, app: FastAPI, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    user = flow.interviewee
    revoked = factory.token_for(user.id)
    async with peers(live_url, revoked, revoked, user.token, flow.interviewer.token) as (
        tab,
        other_tab,
        other_token,
        peer,
    ):
        for socket_ in (tab, peer):
            assert (await socket_.join(flow.id))["ok"]
        sids = {tab.client.get_sid(), other_tab.client.get_sid()}
        await logout(client, revoked)
        # Ended before the logout answered: no push of the user's can reach them after it.
        assert sids.isdisjoint(realtime_of(app).sockets)
        for ended in (tab, other_tab):
            assert await ended.ended() == notice("logout")
        await still_served(app, user, other_token)
        # The room heard the user leave, as for any disconnection.
        [left] = await peer.wait_for("presence", where=lambda e: e["state"] == "left")
        assert left == {"session_id": flow.id, "user_id": user.id, "state": "left"}


async def test_a_logout_while_the_handshake_reads_the_token_still_ends_the_socket(
    live_url: str, factory: Factory, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The handshake read the token as good, then the logout committed and ended the token's
    sockets before this one was registered: it is judged again once connected."""
    user = await factory.interviewee()
    read, logged_out = asyncio.Event(), asyncio.Event()
    authenticate = realtime_server.authenticate

    async def held(db: Any, claims: Any, **options: Any) -> Any:
        actor = await authenticate(db, claims, **options)
        if not read.is_set():
            read.set()
            await logged_out.wait()
        return actor

    monkeypatch.setattr(realtime_server, "authenticate", held)
    peer = Peer(live_url, user.token)
    try:
        connecting = asyncio.create_task(peer.connect())
        await read.wait()
        await logout(client, user.token)
        logged_out.set()
        await connecting
        assert await peer.ended() == notice("revoked")
    finally:
        await peer.close()


async def test_a_logged_out_socket_is_ended_within_a_second(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    user = await factory.interviewer()
    async with peers(live_url, user.token) as (socket_,):
        started = time.monotonic()
        await logout(client, user.token)
        assert await socket_.ended(wait=1.0) == notice("logout")
        assert time.monotonic() - started < 1.0


# -- password change -------------------------------------------------------------------------


async def change_password(client: httpx.AsyncClient, user: TestUser, token: str) -> None:
    response = await client.patch(
        "/api/users/me",
        json={"password": NEW_PASSWORD, "current_password": user.password},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 200, response.text


async def test_a_password_change_ends_the_sockets_of_older_tokens_and_keeps_newer_ones(
    live_url: str, app: FastAPI, factory: Factory, client: httpx.AsyncClient
) -> None:
    user = await factory.interviewee()
    other = await factory.interviewee()
    older = factory.token_for(user.id)
    factory.clock.advance(seconds=1)
    changing = factory.token_for(user.id)
    async with peers(live_url, older, changing, other.token) as (old_socket, own, bystander):
        factory.clock.advance(seconds=1)  # the change comes after both tokens were issued
        await change_password(client, user, changing)
        # Logged in again after the change: that token's socket stays.
        factory.clock.advance(seconds=1)
        newer = factory.token_for(user.id)
        async with peers(live_url, newer) as (new_socket,):
            for ended in (old_socket, own):
                assert await ended.ended() == notice("password_changed")
            await still_served(app, user, new_socket)
            await still_served(app, other, bystander)


async def test_a_refused_password_change_ends_no_socket(
    live_url: str, app: FastAPI, factory: Factory, client: httpx.AsyncClient
) -> None:
    user = await factory.interviewee()
    async with peers(live_url, user.token) as (socket_,):
        response = await client.patch(
            "/api/users/me",
            json={"password": NEW_PASSWORD, "current_password": "not the password"},
            headers=user.headers,
        )
        assert response.status_code == 422, response.text
        await still_served(app, user, socket_)


# -- deactivation ----------------------------------------------------------------------------


async def admin_patch(
    client: httpx.AsyncClient, admin: TestUser, user: TestUser, **changes: Any
) -> None:
    response = await client.patch(f"/api/users/{user.id}", json=changes, headers=admin.headers)
    assert response.status_code == 200, response.text


async def test_a_deactivation_ends_every_socket_of_the_account(
    live_url: str, app: FastAPI, factory: Factory, client: httpx.AsyncClient
) -> None:
    admin = await factory.admin()
    flow = await accepted(factory)
    user = flow.interviewer
    second = factory.token_for(user.id)
    async with peers(live_url, user.token, second, flow.interviewee.token) as (one, two, peer):
        for socket_ in (one, peer):
            assert (await socket_.join(flow.id))["ok"]
        await admin_patch(client, admin, user, is_active=False)
        for ended in (one, two):
            assert await ended.ended() == notice("deactivated")
        await still_served(app, flow.interviewee, peer)
        await peer.wait_for("presence", where=lambda e: e["state"] == "left")
        # Reactivated, the account's unexpired tokens connect again (REST's rule).
        await admin_patch(client, admin, user, is_active=True)
        async with peers(live_url, second) as (again,):
            await still_served(app, user, again)


async def test_a_role_change_ends_no_socket(
    live_url: str, app: FastAPI, factory: Factory, client: httpx.AsyncClient
) -> None:
    admin = await factory.admin()
    user = await factory.interviewee()
    async with peers(live_url, user.token) as (socket_,):
        await admin_patch(client, admin, user, role="INTERVIEWER")
        await still_served(app, user, socket_)


# -- expiry ----------------------------------------------------------------------------------


async def test_a_socket_ends_within_a_second_of_its_tokens_expiry(
    live_url: str, app: FastAPI, factory: Factory
) -> None:
    user = await factory.interviewee()
    short = factory.token_for(user.id, lifetime=timedelta(minutes=5))
    longer = factory.token_for(user.id, lifetime=timedelta(minutes=10))
    async with peers(live_url, short, longer) as (expiring, lasting):
        factory.clock.advance(minutes=4, seconds=59)
        await asyncio.sleep(1.2)  # past one look of the watch at the clock: nothing due yet
        assert expiring.client.connected
        assert expiring.received["access_revoked"] == []
        factory.clock.advance(seconds=1)  # the token's `exp`, on Peerview's clock
        started = time.monotonic()
        assert await expiring.ended(wait=2.0) == notice("expired")
        assert time.monotonic() - started <= 1.0 + 0.5  # the watch, then the client hearing it
        await still_served(app, user, lasting)
    for _ in range(100):  # the server hears the client close a moment later
        if not realtime_of(app).sockets:
            break
        await asyncio.sleep(0.02)
    assert (
        len(realtime_of(app).revoker.expiry) == 0
    )  # nothing left watched once every socket is gone


# -- every event re-checks the token ---------------------------------------------------------


async def test_leave_of_a_socket_whose_token_was_revoked_unannounced_is_refused_and_ends_it(
    live_url: str, app: FastAPI, factory: Factory
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as (me, peer):
        for socket_ in (me, peer):
            assert (await socket_.join(flow.id))["ok"]
        await silently_revoke(app, flow.interviewer.token)
        realtime_of(app).cache.clear()  # what a lost announcement leaves: no word of it
        assert await me.call("leave", {"session_id": flow.id}) == INVALID_TOKEN
        # The answer first, then the notice and the disconnect.
        assert await me.ended() == notice("revoked")
        [left] = await peer.wait_for("presence", where=lambda e: e["state"] == "left")
        assert left["user_id"] == flow.interviewer.id


async def test_a_signal_of_a_socket_whose_token_was_revoked_unannounced_ends_it(
    live_url: str, app: FastAPI, factory: Factory
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as (sender, peer):
        for socket_ in (sender, peer):
            assert (await socket_.join(flow.id))["ok"]
        await silently_revoke(app, flow.interviewer.token)
        realtime_of(app).cache.clear()
        assert await sender.send_signal(flow.id, "offer", OFFER) == INVALID_TOKEN
        assert await sender.ended() == notice("revoked")
        await peer.wait_for("presence", where=lambda e: e["state"] == "left")
        assert peer.received["signal"] == []


async def test_a_lost_announcement_ends_the_socket_once_the_loss_is_known(
    live_url: str, app: FastAPI, factory: Factory
) -> None:
    """Another process could not announce a revocation: its `flush` makes every process check
    its sockets' tokens with the database, without waiting for the socket to send anything."""
    user = await factory.interviewee()
    other = await factory.interviewer()
    async with peers(live_url, user.token, other.token) as (revoked, kept):
        await silently_revoke(app, user.token)
        realtime_of(app)._heard(Announcement(origin="another process", nonce=1, flush=True))
        assert await revoked.ended() == notice("revoked")
        await still_served(app, other, kept)


async def test_a_subscription_confirmed_again_ends_the_sockets_revoked_meanwhile(
    live_url: str, app: FastAPI, factory: Factory
) -> None:
    """Announcements published while this process's subscription was down never reach it:
    when the subscription is confirmed again, every socket's token is checked."""
    user = await factory.interviewee()
    other = await factory.interviewer()
    async with peers(live_url, user.token, other.token) as (revoked, kept):
        await silently_revoke(app, user.token)
        realtime_of(app)._trust(True)
        assert await revoked.ended() == notice("revoked")
        await still_served(app, other, kept)
