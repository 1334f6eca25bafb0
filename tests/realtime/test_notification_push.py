"""`notification` events: each new notification reaches every socket of its recipient, once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from fastapi import FastAPI

from peerview.jobs.sweeper import sweep_once
from tests.factories import Factory
from tests.flow import accepted, post_request
from tests.realtime.support import peers


async def test_notification_reaches_every_socket_of_its_recipient_once(
    live_url: str, factory: Factory
) -> None:
    interviewer = await factory.interviewer()
    interviewee = await factory.interviewee()
    tokens = (interviewee.token, interviewee.token, interviewer.token)
    async with peers(live_url, *tokens) as (phone, laptop, other):
        flow = await accepted(factory, interviewer=interviewer, interviewee=interviewee)
        for socket in (phone, laptop):
            [pushed] = await socket.wait_for("notification")
            await socket.barrier()
            assert len(socket.received["notification"]) == 1
            assert pushed["kind"] == "REQUEST_ACCEPTED"
            assert pushed["session_id"] == flow.id
            assert pushed["read_at"] is None
        await other.barrier()
        assert other.received["notification"] == []


async def test_pushed_notification_is_the_stored_one(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    interviewee = await factory.interviewee()
    async with peers(live_url, interviewee.token) as (socket,):
        await accepted(factory, interviewee=interviewee)
        [pushed] = await socket.wait_for("notification")
    response = await factory.client.get("/api/notifications", headers=interviewee.headers)
    assert response.json()["items"] == [pushed]


async def test_sweeper_notifications_are_pushed_once_with_three_concurrent_sweepers(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    owner = await factory.interviewee()
    flow = await accepted(factory, scheduled_in=timedelta(hours=6))
    await post_request(factory, owner, scheduled_in=timedelta(hours=5, minutes=30))
    async with peers(
        live_url, owner.token, flow.interviewer.token, flow.interviewee.token
    ) as sockets:
        factory.clock.set(flow.scheduled_at - timedelta(minutes=10))

        async def sweep() -> None:
            await sweep_once(
                database=app.services.database,
                clock=factory.clock,
                settings=app.services.settings,
                events=app.services.events,
                notifier=app.services.notifier,
            )

        await asyncio.gather(sweep(), sweep(), sweep())
        expected = ("REQUEST_EXPIRED", "SESSION_REMINDER", "SESSION_REMINDER")
        for socket, kind in zip(sockets, expected, strict=True):
            await socket.wait_for("notification")
            await socket.barrier()
            assert [n["kind"] for n in socket.received["notification"]] == [kind]
