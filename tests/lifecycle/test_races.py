"""Races between real concurrent transactions: exactly one winner, and row, read and events agree.

Each request goes through the one `client` into the one app; its connection pool gives each
request its own connection and transaction, so these are the races a busy server sees.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable
from datetime import timedelta
from typing import TypeVar

import httpx

from peerview.clock import FakeClock
from peerview.events import RequestAccepted
from tests.factories import Factory
from tests.flow import accepted, live, post_request
from tests.lifecycle.support import (
    expected_read,
    record_events,
    request_row,
    rules_of,
    session_count,
    session_row,
    sweep,
)

ROUNDS = 3
# How far start trails the sweeper (negative: leads it), in units of one sweep's duration.
T = TypeVar("T")
STAGGER = (-1.0, -0.5, -0.2, 0.0, 0.2, 0.5, 1.0)


async def later(delay: float, work: Awaitable[T]) -> T:
    await asyncio.sleep(delay)
    return await work


def codes(responses: list[httpx.Response]) -> Counter[tuple[int, str | None]]:
    out: Counter[tuple[int, str | None]] = Counter()
    for r in responses:
        assert r.status_code < 500, r.text
        out[(r.status_code, r.json().get("code") if r.status_code >= 400 else None)] += 1
    return out


async def test_fifty_concurrent_accepts_create_exactly_one_session(factory: Factory) -> None:
    recorder = record_events(factory.app)
    interviewers = [await factory.interviewer() for _ in range(50)]
    owner = await factory.interviewee()
    for round_ in range(ROUNDS):
        posted = await post_request(factory, owner, scheduled_in=timedelta(days=1 + round_))
        url = f"/api/interview-requests/{posted['id']}/accept"
        responses = await asyncio.gather(
            *(factory.client.post(url, headers=i.headers) for i in interviewers)
        )
        assert codes(responses) == {(201, None): 1, (409, "REQUEST_NOT_OPEN"): 49}
        [winner] = [r.json() for r in responses if r.status_code == 201]
        assert await session_count(factory.app, posted["id"]) == 1
        row = await request_row(factory.app, posted["id"])
        assert row["status"] == "ACCEPTED"
        detail = await factory.client.get(
            f"/api/interview-requests/{posted['id']}", headers=owner.headers
        )
        assert detail.json()["session_id"] == winner["id"]
        announced = [
            e
            for e in recorder.events
            if isinstance(e, RequestAccepted) and e.request_id == posted["id"]
        ]
        assert [e.session_id for e in announced] == [winner["id"]]


async def test_ten_concurrent_ends_one_wins(factory: Factory) -> None:
    recorder = record_events(factory.app)
    interviewer = await factory.interviewer()
    for round_ in range(ROUNDS):
        flow = await live(factory, interviewer=interviewer, scheduled_in=timedelta(days=1))
        factory.clock.advance(minutes=10)
        url = f"/api/interview-sessions/{flow.id}/end"
        responses = await asyncio.gather(
            *(factory.client.post(url, headers=interviewer.headers) for _ in range(10))
        )
        assert codes(responses) == {(200, None): 1, (409, "INVALID_SESSION_STATE"): 9}, round_
        row = await session_row(factory.app, flow.id)
        assert (row["status"], row["end_reason"]) == ("COMPLETED", "ENDED_BY_INTERVIEWER")
        assert [e.event for e in recorder.session_events(flow.id)] == ["started", "ended"]


async def test_start_racing_the_no_show_sweep_ends_in_exactly_one_state(
    factory: Factory,
) -> None:
    recorder = record_events(factory.app)
    rules = rules_of(factory.app)
    began = time.perf_counter()
    await sweep(factory.app, factory.clock)  # nothing due: how long one sweep takes here
    took = time.perf_counter() - began
    for round_ in range(len(STAGGER)):
        flow = await accepted(factory, scheduled_in=timedelta(days=1))
        # The interviewer's clock still allows start; the sweeper's is past the deadline.
        factory.clock.set(flow.scheduled_at + rules.no_show - timedelta(seconds=1))
        sweeper_clock = FakeClock(flow.scheduled_at + rules.no_show)

        lag = min(0.1, took * abs(STAGGER[round_]))
        # Stagger the two by up to one sweep's duration either way, so both orders occur.
        result, response = await asyncio.gather(
            later(lag if STAGGER[round_] < 0 else 0, sweep(factory.app, sweeper_clock)),
            later(
                lag if STAGGER[round_] > 0 else 0,
                factory.client.post(
                    f"/api/interview-sessions/{flow.id}/start", headers=flow.interviewer.headers
                ),
            ),
        )
        row = await session_row(factory.app, flow.id)
        events = recorder.session_events(flow.id)
        read = await factory.client.get(
            f"/api/interview-sessions/{flow.id}", headers=flow.interviewee.headers
        )
        if response.status_code == 200:
            assert [r["id"] for r in result.no_shows] == []
            assert row["status"] == "LIVE"
            assert [e.event for e in events] == ["started"]
            assert read.json()["status"] == "LIVE"
        else:
            assert response.status_code == 409, response.text
            assert response.json()["code"] == "INVALID_SESSION_STATE"
            assert [r["id"] for r in result.no_shows] == [flow.id]
            assert (row["status"], row["end_reason"]) == ("CANCELLED", "NO_SHOW")
            assert row["ended_at"] == flow.scheduled_at + rules.no_show
            assert [(e.event, e.end_reason) for e in events] == [("cancelled", "NO_SHOW")]
            assert (read.json()["status"], read.json()["end_reason"]) == ("CANCELLED", "NO_SHOW")
        assert read.json()["status"] == expected_read(row, factory.clock.now(), rules)[0]


async def test_cancel_racing_accept_exactly_one_wins(factory: Factory) -> None:
    owner = await factory.interviewee()
    interviewer = await factory.interviewer()
    for round_ in range(4):
        posted = await post_request(factory, owner, scheduled_in=timedelta(days=1 + round_))
        cancel = factory.client.post(
            f"/api/interview-requests/{posted['id']}/cancel", headers=owner.headers
        )
        accept = factory.client.post(
            f"/api/interview-requests/{posted['id']}/accept", headers=interviewer.headers
        )
        if round_ % 2:
            accept_r, cancel_r = await asyncio.gather(accept, cancel)
        else:
            cancel_r, accept_r = await asyncio.gather(cancel, accept)
        row = await request_row(factory.app, posted["id"])
        sessions = await session_count(factory.app, posted["id"])
        if cancel_r.status_code == 200:
            assert accept_r.status_code == 409, accept_r.text
            assert accept_r.json()["code"] == "REQUEST_NOT_OPEN"
            assert (row["status"], sessions) == ("CANCELLED", 0)
        else:
            assert cancel_r.status_code == 409, cancel_r.text
            assert cancel_r.json()["code"] == "REQUEST_NOT_OPEN"
            assert accept_r.status_code == 201, accept_r.text
            assert (row["status"], sessions) == ("ACCEPTED", 1)


async def test_concurrent_creates_never_exceed_five_open_requests(factory: Factory) -> None:
    for _ in range(ROUNDS):
        owner = await factory.interviewee()
        bodies = [
            {
                "category": "arrays",
                "difficulty": "EASY",
                "scheduled_at": (factory.clock.now() + timedelta(days=1, hours=i)).isoformat(),
            }
            for i in range(8)
        ]
        responses = await asyncio.gather(
            *(
                factory.client.post("/api/interview-requests", json=b, headers=owner.headers)
                for b in bodies
            )
        )
        assert codes(responses) == {(201, None): 5, (409, "TOO_MANY_OPEN_REQUESTS"): 3}


async def test_concurrent_accepts_of_overlapping_requests_by_one_interviewer(
    factory: Factory,
) -> None:
    interviewer = await factory.interviewer()
    for round_ in range(ROUNDS):
        when = timedelta(days=1 + round_)
        posted = [
            await post_request(
                factory, await factory.interviewee(), scheduled_in=when + timedelta(minutes=10 * i)
            )
            for i in range(5)
        ]
        responses = await asyncio.gather(
            *(
                factory.client.post(
                    f"/api/interview-requests/{p['id']}/accept", headers=interviewer.headers
                )
                for p in posted
            )
        )
        assert codes(responses) == {(201, None): 1, (409, "SCHEDULE_CONFLICT"): 4}


async def test_concurrent_extensions_never_pass_sixty_minutes(factory: Factory) -> None:
    interviewer = await factory.interviewer()
    for _ in range(ROUNDS):
        flow = await live(factory, interviewer=interviewer, scheduled_in=timedelta(days=1))
        url = f"/api/interview-sessions/{flow.id}/extend"
        responses = await asyncio.gather(
            *(
                factory.client.post(url, json={"minutes": 10}, headers=interviewer.headers)
                for _ in range(10)
            )
        )
        counted = codes(responses)
        assert set(counted) <= {
            (200, None),
            (409, "EXTENSION_LIMIT"),
            (409, "INVALID_SESSION_STATE"),
        }
        granted = counted[(200, None)]
        assert 1 <= granted <= 6
        row = await session_row(factory.app, flow.id)
        assert row["extended_minutes"] == 10 * granted
        started = row["started_at"]
        assert row["planned_end_at"] == started + timedelta(minutes=60 + 10 * granted)
        assert row["hard_end_at"] == row["planned_end_at"] + rules_of(factory.app).hard_buffer


async def test_join_racing_end_never_answers_200_with_a_finished_session(
    factory: Factory,
) -> None:
    interviewer = await factory.interviewer()
    for round_ in range(4):
        flow = await live(factory, interviewer=interviewer, scheduled_in=timedelta(days=1))
        join = factory.client.post(
            f"/api/interview-sessions/{flow.id}/join", headers=flow.interviewee.headers
        )
        end = factory.client.post(
            f"/api/interview-sessions/{flow.id}/end", headers=interviewer.headers
        )
        if round_ % 2:
            end_r, join_r = await asyncio.gather(end, join)
        else:
            join_r, end_r = await asyncio.gather(join, end)
        assert end_r.status_code == 200, end_r.text
        if join_r.status_code == 200:
            assert join_r.json()["session"]["status"] == "LIVE", join_r.text
        else:
            assert join_r.status_code == 409, join_r.text
            assert join_r.json()["code"] == "INVALID_SESSION_STATE"
        row = await session_row(factory.app, flow.id)
        assert row["status"] == "COMPLETED"
