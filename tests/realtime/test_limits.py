"""Per-socket limits: a token bucket on messages and a cap on their size."""

from __future__ import annotations

import asyncio
import gc
import time

import httpx

from peerview.realtime.ratelimit import TokenBucket
from tests.factories import Factory
from tests.flow import accepted
from tests.realtime.support import peers

FLOOD = 1000


async def test_flood_of_signals_is_throttled_and_health_stays_fast(
    live_url: str, factory: Factory
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token, flow.interviewee.token) as (flooder, other):
        assert (await flooder.join(flow.id))["ok"]
        assert (await other.join(flow.id))["ok"]
        acks: list[object] = []
        all_acked = asyncio.Event()

        def record(*args: object) -> None:
            acks.append(args[0] if args else None)
            if len(acks) == FLOOD:
                all_acked.set()

        # This process also runs the flooding client and the health prober: a full collection
        # of its garbage (hundreds of ms on a busy machine) is not the server's to answer for.
        gc.collect()
        started = time.monotonic()
        for n in range(FLOOD):
            await flooder.client.emit(
                "signal",
                {"session_id": flow.id, "type": "ice-candidate", "data": {"n": n}},
                callback=record,
            )
        sent_in = time.monotonic() - started

        async with httpx.AsyncClient(base_url=live_url) as http:
            timings = []
            for _ in range(5):
                begun = time.monotonic()
                response = await http.get("/api/health")
                timings.append(time.monotonic() - begun)
                assert response.status_code == 200

        await asyncio.wait_for(all_acked.wait(), 20)
        await other.barrier()

    relayed_count = sum(1 for a in acks if a == {"ok": True})
    print(  # the figures of docs/reliability.md (pytest -s)
        f"\nsignal flood: {FLOOD} sent in {sent_in * 1000:.0f} ms, {relayed_count} relayed, "
        f"{FLOOD - relayed_count} refused; /api/health during it: "
        f"max {max(timings) * 1000:.1f} ms over {len(timings)}"
    )
    assert sent_in < 1.0, sent_in  # it really was a flood within one second
    assert max(timings) < 0.2, timings
    throttled = [a for a in acks if a == {"ok": False, "code": "TOO_MANY_REQUESTS"}]
    relayed = [a for a in acks if a == {"ok": True}]
    assert len(relayed) + len(throttled) == FLOOD
    # The burst plus what the rate refilled meanwhile (50/s) got through, far from all.
    assert 100 <= len(relayed) < 500, len(relayed)
    assert len(other.received["signal"]) == len(relayed)
    # What was relayed kept its order.
    numbers = [s["data"]["n"] for s in other.received["signal"]]
    assert numbers == sorted(numbers)


async def test_message_larger_than_the_limit_closes_the_socket(
    live_url: str, factory: Factory
) -> None:
    flow = await accepted(factory)
    async with peers(live_url, flow.interviewer.token) as (peer,):
        assert (await peer.join(flow.id))["ok"]
        huge = {"type": "offer", "sdp": "x" * (70 * 1024)}
        await peer.client.emit("signal", {"session_id": flow.id, "type": "offer", "data": huge})
        for _ in range(100):
            if not peer.client.connected:
                break
            await asyncio.sleep(0.02)
        assert not peer.client.connected


def test_token_bucket_allows_the_burst_then_the_rate() -> None:
    now = [0.0]
    bucket = TokenBucket(rate=50, burst=100, timer=lambda: now[0])
    assert sum(bucket.take() for _ in range(150)) == 100
    now[0] += 0.1  # five more tokens
    assert sum(bucket.take() for _ in range(10)) == 5
    now[0] += 60  # refills to the burst, never beyond
    assert sum(bucket.take() for _ in range(150)) == 100
