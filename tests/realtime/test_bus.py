"""The realtime bus between server processes, on a real Redis (each bus stands for a process)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from redis.asyncio import Redis

from peerview.events import AccessChanged, SessionChanged
from peerview.realtime import bus as bus_module
from peerview.realtime.bus import Announcement, RedisBus

WAIT = 5.0
AT = datetime(2030, 1, 7, 10, 0, tzinfo=UTC)
ENDED = SessionChanged(
    event="ended",
    session_id="s1",
    interviewer_id="er",
    interviewee_id="ee",
    end_reason="ENDED_BY_INTERVIEWER",
    actor_id="er",
    at=AT,
    created_at=AT,
)


@dataclass
class Process:
    """One bus and what it was told: the announcements it heard, its trust's changes."""

    bus: RedisBus = field(init=False)
    heard: list[Announcement] = field(default_factory=list)
    trust: list[bool] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def on_news(self, news: Announcement) -> None:
        self.heard.append(news)
        self.changed.set()

    def on_trust(self, trusted: bool) -> None:
        self.trust.append(trusted)
        self.changed.set()

    async def until(self, condition: Callable[[], bool]) -> None:
        async def waited() -> None:
            while not condition():
                self.changed.clear()
                await self.changed.wait()

        await asyncio.wait_for(waited(), WAIT)


@asynccontextmanager
async def processes(
    redis_url: str, count: int, *, publisher: Any = None
) -> AsyncIterator[list[Process]]:
    channel = f"peerview-test-{uuid.uuid4().hex}"
    async with AsyncExitStack() as stack:
        shared = Redis.from_url(redis_url)
        stack.push_async_callback(shared.aclose)
        made = []
        for n in range(count):
            process = Process()
            process.bus = RedisBus(
                url=redis_url,
                socketio_channel=channel,
                publisher=publisher if publisher is not None and n == 0 else shared,
                on_news=process.on_news,
                on_trust=process.on_trust,
            )
            stack.push_async_callback(process.bus.close)
            process.bus.start()
            made.append(process)
        for process in made:
            await process.until(lambda p=process: p.bus.healthy)  # type: ignore[misc]
        yield made


async def test_an_announcement_is_acted_on_by_every_other_process_before_it_returns(
    redis_url: str,
) -> None:
    async with processes(redis_url, 3) as (one, two, three):
        await one.bus.announce(session=ENDED)
        # No waiting here: the announcer waited for both to acknowledge.
        assert [n.sessions for n in two.heard] == [[ENDED]]
        assert [n.sessions for n in three.heard] == [[ENDED]]
        # Its own process acts before it announces, never again on hearing itself.
        assert one.heard == []


def ended(session_id: str) -> SessionChanged:
    return SessionChanged(
        event="ended",
        session_id=session_id,
        interviewer_id="er",
        interviewee_id="ee",
        end_reason="AUTO_TIMEOUT",
        actor_id=None,
        at=AT,
        created_at=AT,
    )


async def test_announcements_made_meanwhile_go_out_together_and_in_order(
    redis_url: str,
) -> None:
    async with processes(redis_url, 2) as (one, two):
        for n in range(5):  # a sweep's transitions: nobody waits for them
            await one.bus.announce(session=ended(f"swept-{n}"), wait=False)
        await one.bus.announce(session=ENDED)
        heard = [s.session_id for news in two.heard for s in news.sessions]
        assert heard == [*(f"swept-{n}" for n in range(5)), "s1"]
        assert len(two.heard) == 1


async def test_an_access_change_reaches_the_other_processes(redis_url: str) -> None:
    revoked = AccessChanged(user_id="u1", jti="jti-1", at=AT)
    async with processes(redis_url, 2) as (one, two):
        await two.bus.announce(access=revoked)
        assert [n.access for n in one.heard] == [[revoked]]


async def test_a_confirmed_subscription_is_trusted_and_a_lost_one_is_not_until_confirmed_again(
    redis_url: str,
) -> None:
    async with processes(redis_url, 1) as (one,):
        assert one.trust == [True]
        admin = Redis.from_url(redis_url)
        try:
            name = f"peerview-relay-bus-{one.bus.process_id}"
            clients = await admin.client_list()
            [ours] = [c for c in clients if c.get("name") == name]
            await admin.client_kill_filter(_id=ours["id"])
        finally:
            await admin.aclose()
        # Lost (the cache is bypassed), then subscribed again on a new connection (the cache
        # starts empty: what was published in between was not heard).
        await one.until(lambda: one.trust[-2:] == [False, True])
        assert one.bus.healthy


async def test_a_process_that_never_answers_delays_an_announcement_by_the_wait_only(
    redis_url: str, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(bus_module, "ACK_WAIT_SECONDS", 0.05)
    async with processes(redis_url, 1) as (one,):
        silent = Redis.from_url(redis_url)
        pubsub = silent.pubsub()
        try:
            await pubsub.subscribe(one.bus.channel)  # hears, never acknowledges
            confirmed = await pubsub.get_message(timeout=WAIT)
            assert confirmed is not None
            assert confirmed["type"] == "subscribe"
            await one.bus.announce(session=ENDED)
        finally:
            await pubsub.aclose()  # type: ignore[no-untyped-call]
            await silent.aclose()
    assert "1 of 2 process(es) acknowledged" in caplog.text


class FailingOnce:
    """A publisher whose first PUBLISH fails, as when Redis does not answer for a moment."""

    def __init__(self, redis: Redis) -> None:
        self.redis = redis
        self.failed = False

    async def publish(self, channel: str, message: Any) -> int:
        if not self.failed:
            self.failed = True
            raise ConnectionError("Redis is away")
        return int(await self.redis.publish(channel, message))


async def test_an_announcement_that_could_not_be_published_empties_every_cache_later(
    redis_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(bus_module, "HEARTBEAT_SECONDS", 0.05)
    redis = Redis.from_url(redis_url)
    try:
        async with processes(redis_url, 2, publisher=FailingOnce(redis)) as (one, two):
            await one.bus.announce(session=ENDED)
            await two.until(lambda: any(n.flush for n in two.heard))
            assert [n.sessions for n in two.heard] == [[]]
    finally:
        await redis.aclose()


async def test_announcing_without_redis_neither_fails_nor_waits() -> None:
    process = Process()
    nowhere = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there
    publisher = Redis.from_url(nowhere, socket_connect_timeout=1)
    process.bus = RedisBus(
        url=nowhere,
        socketio_channel=f"peerview-test-{uuid.uuid4().hex}",
        publisher=publisher,
        on_news=process.on_news,
        on_trust=process.on_trust,
    )
    try:
        await process.bus.announce(session=ENDED)
        assert not process.bus.healthy
    finally:
        await process.bus.close()
        await publisher.aclose()


async def test_an_announcement_of_a_newer_release_is_taken_as_a_flush_and_answered(
    redis_url: str,
) -> None:
    """During a rolling upgrade an older process hears events it does not know: it trusts
    nothing it cached (a flush) and still answers, so the announcer does not wait in vain."""
    async with processes(redis_url, 2) as (old, new):
        newer = bus_module._encode(
            {
                "origin": "a-newer-process",
                "nonce": 7,
                "sessions": [{**bus_module.msgspec.to_builtins(ENDED), "event": "renamed"}],
                "answer": True,
            }
        )
        acks = Redis.from_url(redis_url)
        listener = acks.pubsub()
        await listener.subscribe(f"{old.bus.channel}:ack:a-newer-process")
        try:
            await acks.publish(old.bus.channel, newer)
            await old.until(lambda: len(old.heard) == 1)
            assert old.heard[0].flush
            assert old.heard[0].sessions == []
            answer = None
            async with asyncio.timeout(WAIT):
                while answer is None:
                    answer = await listener.get_message(ignore_subscribe_messages=True, timeout=1)
            assert answer["data"] == b"7"
        finally:
            await listener.aclose()
            await acks.aclose()
        # The next announcement it can read is acted on as usual.
        await new.bus.announce(session=ENDED)
        await old.until(lambda: len(old.heard) == 2)
        assert old.heard[1].sessions == [ENDED]
