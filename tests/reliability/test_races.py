"""Races between real concurrent transactions: exactly one winner, and row, read and events agree.

Each request goes through the one `client` into the one app; its connection pool gives each
request its own connection and transaction, so these are the races a busy server sees. On
PostgreSQL the pool's peak of connections checked out at once shows that the transactions
overlapped. On SQLite statements run on the event loop and a writer holds the one write lock
from BEGIN IMMEDIATE to COMMIT, so the transactions of one process take turns (which is what
makes them safe); the races there are the same requests in any order, and across processes
SQLite's own lock decides. Sweepers race as three apps with databases of their own, like
three server processes.

Every race is run PEERVIEW_RACE_REPEATS times (default 3; `make soak` runs 20), each time on
fresh rows, and the exact outcome is asserted every time.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.db import Database
from peerview.events import RequestAccepted, RequestExpired, SessionChanged
from peerview.jobs.sweeper import SweepResult, sweep_once
from peerview.models import Question, User
from peerview.models.base import table_of
from peerview.users import service as users_service
from tests.factories import Factory, TestUser
from tests.feedback.support import give, stored_count
from tests.flow import accepted, completed, live, post_request
from tests.lifecycle.support import (
    Recorder,
    expected_read,
    insert_live_sessions,
    insert_requests,
    record_events,
    request_row,
    rules_of,
    session_count,
    session_row,
    sweep,
)
from tests.notifications.support import kinds_by_user
from tests.platform.apps import extra_app
from tests.questions.conftest import question_body
from tests.support.sql import execute

REPEATS = int(os.environ.get("PEERVIEW_RACE_REPEATS", "3"))
assert REPEATS >= 1, "PEERVIEW_RACE_REPEATS must be at least 1"
# How far start trails the sweeper (negative: leads it), in units of one sweep's duration.
STAGGER = (-1.0, -0.5, -0.2, 0.0, 0.2, 0.5, 1.0)
T = TypeVar("T")
users_table = table_of(User)
questions = table_of(Question)


async def later(delay: float, work: Awaitable[T]) -> T:
    await asyncio.sleep(delay)
    return await work


def codes(responses: list[httpx.Response]) -> Counter[tuple[int, str | None]]:
    out: Counter[tuple[int, str | None]] = Counter()
    for r in responses:
        assert r.status_code < 500, r.text
        out[(r.status_code, r.json().get("code") if r.status_code >= 400 else None)] += 1
    return out


def report(race: str, outcomes: Counter[Any]) -> None:
    """What an either-way race came to over the repetitions (shown with `pytest -s`)."""
    print(f"\n{race}: {dict(sorted(outcomes.items(), key=str))}")


@dataclass
class Peak:
    most: int = 0


@contextmanager
def connections_at_once(database: Database) -> Iterator[Peak]:
    """The most connections of `database`'s pool checked out at the same time in the block."""
    peak = Peak()
    database.peak = database.in_use
    try:
        yield peak
    finally:
        peak.most = database.peak


def assert_overlapped(database: Database, peak: Peak, round_: int) -> None:
    """On PostgreSQL the transactions really ran at the same time (see the module's note)."""
    if database.dialect == "postgresql":
        assert peak.most > 1, round_


async def test_fifty_concurrent_accepts_create_exactly_one_session(factory: Factory) -> None:
    recorder = record_events(factory.app)
    interviewers = [await factory.interviewer() for _ in range(50)]
    owner = await factory.interviewee()
    for round_ in range(REPEATS):
        posted = await post_request(factory, owner, scheduled_in=timedelta(days=1 + round_))
        url = f"/api/interview-requests/{posted['id']}/accept"
        with connections_at_once(factory.app.services.database) as peak:
            responses = await asyncio.gather(
                *(factory.client.post(url, headers=i.headers) for i in interviewers)
            )
        assert_overlapped(factory.app.services.database, peak, round_)
        assert codes(responses) == {(201, None): 1, (409, "REQUEST_NOT_OPEN"): 49}, round_
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


async def test_twenty_concurrent_feedbacks_per_author_store_exactly_one_each(
    factory: Factory,
) -> None:
    # Both participants at once, twenty posts each: one 201 per author (docs/api.md §7), the rest
    # 409 FEEDBACK_EXISTS, and one stored row per author.
    for round_ in range(REPEATS):
        flow = await completed(factory)
        authors = [flow.interviewee] * 20 + [flow.interviewer] * 20
        with connections_at_once(factory.app.services.database) as peak:
            responses = await asyncio.gather(*(give(factory.client, a, flow.id) for a in authors))
        assert_overlapped(factory.app.services.database, peak, round_)
        for author, answers in (
            (flow.interviewee, responses[:20]),
            (flow.interviewer, responses[20:]),
        ):
            assert codes(answers) == {(201, None): 1, (409, "FEEDBACK_EXISTS"): 19}, round_
            [created] = [r.json() for r in answers if r.status_code == 201]
            assert created["author"]["id"] == author.id
        assert await stored_count(factory, flow.id) == 2, round_


async def test_ten_concurrent_ends_one_wins(factory: Factory) -> None:
    recorder = record_events(factory.app)
    interviewer = await factory.interviewer()
    for round_ in range(REPEATS):
        flow = await live(factory, interviewer=interviewer, scheduled_in=timedelta(days=1))
        factory.clock.advance(minutes=10)
        url = f"/api/interview-sessions/{flow.id}/end"
        with connections_at_once(factory.app.services.database) as peak:
            responses = await asyncio.gather(
                *(factory.client.post(url, headers=interviewer.headers) for _ in range(10))
            )
        assert_overlapped(factory.app.services.database, peak, round_)
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
    outcomes: Counter[int] = Counter()
    # Each repetition staggers the two by up to one sweep's duration either way, so both
    # orders occur.
    for round_ in range(REPEATS * len(STAGGER)):
        stagger = STAGGER[round_ % len(STAGGER)]
        flow = await accepted(factory, scheduled_in=timedelta(days=1))
        # The interviewer's clock still allows start; the sweeper's is past the deadline.
        factory.clock.set(flow.scheduled_at + rules.no_show - timedelta(seconds=1))
        sweeper_clock = FakeClock(flow.scheduled_at + rules.no_show)

        lag = min(0.1, took * abs(stagger))
        result, response = await asyncio.gather(
            later(lag if stagger < 0 else 0, sweep(factory.app, sweeper_clock)),
            later(
                lag if stagger > 0 else 0,
                factory.client.post(
                    f"/api/interview-sessions/{flow.id}/start", headers=flow.interviewer.headers
                ),
            ),
        )
        outcomes[response.status_code] += 1
        row = await session_row(factory.app, flow.id)
        events = recorder.session_events(flow.id)
        read = await factory.client.get(
            f"/api/interview-sessions/{flow.id}", headers=flow.interviewee.headers
        )
        if response.status_code == 200:
            assert [r.id for r in result.no_shows] == []
            assert row["status"] == "LIVE"
            assert [e.event for e in events] == ["started"]
            assert read.json()["status"] == "LIVE"
        else:
            assert response.status_code == 409, response.text
            assert response.json()["code"] == "INVALID_SESSION_STATE"
            assert [r.id for r in result.no_shows] == [flow.id]
            assert (row["status"], row["end_reason"]) == ("CANCELLED", "NO_SHOW")
            assert row["ended_at"] == flow.scheduled_at + rules.no_show
            assert [(e.event, e.end_reason) for e in events] == [("cancelled", "NO_SHOW")]
            assert (read.json()["status"], read.json()["end_reason"]) == ("CANCELLED", "NO_SHOW")
        assert read.json()["status"] == expected_read(row, factory.clock.now(), rules)[0]
    report("start vs no-show sweep (start's status)", outcomes)


async def test_cancel_racing_accept_exactly_one_wins(factory: Factory) -> None:
    owner = await factory.interviewee()
    interviewer = await factory.interviewer()
    winners: Counter[str] = Counter()
    for round_ in range(2 * REPEATS):
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
        winners["cancel" if cancel_r.status_code == 200 else "accept"] += 1
    report("cancel vs accept (winner)", winners)


BATCH = 4
BULK = 10  # overdue live sessions and expired requests inserted per round, 3 batches each


def ids(results: list[SweepResult], kind: str) -> Counter[str]:
    """How many times the sweeps in `results` made each transition of `kind`."""
    return Counter(row.id for result in results for row in getattr(result, kind))


async def test_three_concurrent_sweepers_make_each_transition_and_notification_once(
    factory: Factory, app: FastAPI, settings: Settings, clock: FakeClock
) -> None:
    # Three apps with engines and event buses of their own (three processes) in even rounds,
    # three sweeps sharing the one app's engine in odd ones; batches smaller than the work.
    batched = settings.model_copy(update={"sweeper_batch_size": BATCH})
    for round_ in range(REPEATS):
        # One of each thing the sweeper acts on, all due at the same moment, plus a bulk.
        owner = await factory.interviewee()
        expired = await post_request(factory, owner, scheduled_in=timedelta(hours=12))
        timed_out = await live(factory, scheduled_in=timedelta(days=1))
        clock.advance(hours=3)  # past the hard end of `timed_out`
        no_show = await accepted(factory, scheduled_in=timedelta(hours=6))
        reminded = await accepted(factory, scheduled_in=timedelta(hours=6, minutes=40))
        clock.advance(hours=6, minutes=30)  # request expired, no-show due, reminder window open
        bulk_interviewer, bulk_owner = await factory.interviewer(), await factory.interviewee()
        bulk_sessions = await insert_live_sessions(
            app,
            interviewer_id=bulk_interviewer.id,
            interviewee_id=bulk_owner.id,
            count=BULK,
            started_at=clock.now() - timedelta(hours=3),
        )
        bulk_requests = await insert_requests(
            app, interviewee_id=bulk_owner.id, count=BULK, scheduled_at=clock.now()
        )
        before = await kinds_by_user(app)

        async with AsyncExitStack() as stack:
            if round_ % 2 == 0:
                apps = [await stack.enter_async_context(extra_app(batched, clock)) for _ in "abc"]
                recorders = [record_events(a) for a in apps]
                sweeps = [
                    sweep_once(
                        database=a.services.database,
                        clock=clock,
                        settings=batched,
                        events=a.services.events,
                        notifier=a.services.notifier,
                    )
                    for a in apps
                ]
            else:
                recorders = [record_events(app)]
                sweeps = [
                    sweep_once(
                        database=app.services.database,
                        clock=clock,
                        settings=batched,
                        events=app.services.events,
                        notifier=app.services.notifier,
                    )
                    for _ in "abc"
                ]
            results: list[SweepResult] = await asyncio.gather(*sweeps)
            recorded = Recorder([e for r in recorders for e in r.events])

        assert ids(results, "expired_requests") == Counter([expired["id"], *bulk_requests]), round_
        assert ids(results, "auto_timed_out") == Counter([timed_out.id, *bulk_sessions]), round_
        assert ids(results, "no_shows") == Counter([no_show.id]), round_
        reminder_users = Counter(row.user_id for r in results for row in r.reminders)
        assert reminder_users == Counter([reminded.interviewer.id, reminded.interviewee.id])
        # Each transition announced once, by whichever sweeper made it.
        announced = Counter(e.request_id for e in recorded.events if isinstance(e, RequestExpired))
        assert announced == Counter([expired["id"], *bulk_requests]), round_
        changed = Counter(
            (e.session_id, e.event, e.end_reason)
            for e in recorded.events
            if isinstance(e, SessionChanged)
        )
        assert changed == Counter(
            [
                (timed_out.id, "ended", "AUTO_TIMEOUT"),
                (no_show.id, "cancelled", "NO_SHOW"),
                *((s, "ended", "AUTO_TIMEOUT") for s in bulk_sessions),
            ]
        ), round_
        # Each notification stored once.
        after = await kinds_by_user(app)
        added = {user: Counter(after[user][len(before.get(user, [])) :]) for user in after}
        added = {user: kinds for user, kinds in added.items() if kinds}
        assert added == {
            owner.id: Counter(["REQUEST_EXPIRED"]),
            timed_out.interviewer.id: Counter(["SESSION_ENDED"]),
            timed_out.interviewee.id: Counter(["SESSION_ENDED"]),
            no_show.interviewer.id: Counter(["SESSION_CANCELLED"]),
            no_show.interviewee.id: Counter(["SESSION_CANCELLED"]),
            reminded.interviewer.id: Counter(["SESSION_REMINDER"]),
            reminded.interviewee.id: Counter(["SESSION_REMINDER"]),
            bulk_interviewer.id: Counter({"SESSION_ENDED": BULK}),
            bulk_owner.id: Counter({"SESSION_ENDED": BULK, "REQUEST_EXPIRED": BULK}),
        }, round_
        for session_id in (timed_out.id, *bulk_sessions):
            row = await session_row(app, session_id)
            assert (row["status"], row["end_reason"]) == ("COMPLETED", "AUTO_TIMEOUT")
            assert row["ended_at"] == row["hard_end_at"]
        row = await session_row(app, no_show.id)
        assert (row["status"], row["end_reason"]) == ("CANCELLED", "NO_SHOW")
        # Nothing left for this moment; then let the rest of this round's work fall due
        # and sweep it, so the next round starts from nothing.
        again = await sweep(app, clock)
        assert again.total == 0, round_
        clock.advance(hours=2)
        await sweep(app, clock)


async def test_concurrent_creates_never_exceed_five_open_requests(factory: Factory) -> None:
    for round_ in range(REPEATS):
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
        assert codes(responses) == {(201, None): 5, (409, "TOO_MANY_OPEN_REQUESTS"): 3}, round_


async def test_concurrent_accepts_of_overlapping_requests_by_one_interviewer(
    factory: Factory,
) -> None:
    interviewer = await factory.interviewer()
    for round_ in range(REPEATS):
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
        assert codes(responses) == {(201, None): 1, (409, "SCHEDULE_CONFLICT"): 4}, round_


async def test_concurrent_extensions_never_pass_sixty_minutes(factory: Factory) -> None:
    interviewer = await factory.interviewer()
    extensions: Counter[int] = Counter()
    for _ in range(REPEATS):
        flow = await live(factory, interviewer=interviewer, scheduled_in=timedelta(days=1))
        url = f"/api/interview-sessions/{flow.id}/extend"
        responses = await asyncio.gather(
            *(
                factory.client.post(url, json={"minutes": 10}, headers=interviewer.headers)
                for _ in range(10)
            )
        )
        # Each is judged on the merits, whatever it raced: 60 minutes in all, 60 allowed.
        assert codes(responses) == {(200, None): 6, (409, "EXTENSION_LIMIT"): 4}
        granted = 6
        row = await session_row(factory.app, flow.id)
        assert row["extended_minutes"] == 10 * granted
        started = row["started_at"]
        assert row["planned_end_at"] == started + timedelta(minutes=60 + 10 * granted)
        assert row["hard_end_at"] == row["planned_end_at"] + rules_of(factory.app).hard_buffer
        extensions[granted] += 1
    report("10 concurrent 10-minute extensions (granted)", extensions)


async def test_join_racing_end_never_answers_200_with_a_finished_session(
    factory: Factory,
) -> None:
    interviewer = await factory.interviewer()
    joins: Counter[int] = Counter()
    for round_ in range(2 * REPEATS):
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
        joins[join_r.status_code] += 1
    report("join vs end (join's status)", joins)


def admitted_together(parties: int) -> Callable[..., Awaitable[Any]]:
    """`users_service.admin_update` made to wait, once its request has passed the token and
    role checks, until `parties` requests have: they then race from the same start."""
    together = asyncio.Barrier(parties)
    admit = users_service.admin_update

    async def wait_then_admit(ctx: Any, **kwargs: Any) -> Any:
        async with asyncio.timeout(30):
            await together.wait()
        return await admit(ctx, **kwargs)

    return wait_then_admit


async def _active_admins(app: FastAPI) -> set[str]:
    query = select(users_table.c.id).where(users_table.c.role == "ADMIN", users_table.c.is_active)
    async with app.services.database.transaction(write=False) as db:
        return set((await execute(db, query)).scalars().all())


@pytest.mark.parametrize("whom", ["each other", "themselves"])
async def test_two_admins_removing_admins_at_once_leave_exactly_one(
    factory: Factory, monkeypatch: pytest.MonkeyPatch, whom: str
) -> None:
    # The only two active admins demote or deactivate each other (or each themselves) at once
    # (docs/api.md §3.2). Both are admitted as admins, then wait for each other at the door of
    # the service, so every round is a true race: one 200, one 409 LAST_ADMIN, one active
    # admin left (the refused change's target, as it was), never a 500 (on PostgreSQL, a
    # deadlock between the two would be one).
    database = factory.app.services.database
    removals = ({"role": "INTERVIEWER"}, {"is_active": False}, {"role": "INTERVIEWEE"})
    survivor: TestUser | None = None
    winners: Counter[str] = Counter()
    for round_ in range(2 * REPEATS):
        a, b = await factory.admin(), await factory.admin()
        if survivor is not None:  # the last round's admin steps aside: two admins, no more
            stepped = await factory.client.patch(
                f"/api/users/{survivor.id}", json={"role": "INTERVIEWER"}, headers=a.headers
            )
            assert stepped.status_code == 200, stepped.text
        assert await _active_admins(factory.app) == {a.id, b.id}, round_
        # Who goes first into gather alternates; the kinds of removal vary.
        askers = (a, b) if round_ % 2 else (b, a)
        targets = askers[::-1] if whom == "each other" else askers
        bodies = (removals[round_ % 3], removals[(round_ + 1) % 3])
        with monkeypatch.context() as patched:
            patched.setattr(users_service, "admin_update", admitted_together(2))
            with connections_at_once(database) as peak:
                responses = await asyncio.gather(
                    *(
                        factory.client.patch(
                            f"/api/users/{target.id}", json=body, headers=asker.headers
                        )
                        for asker, target, body in zip(askers, targets, bodies, strict=True)
                    )
                )
        assert_overlapped(database, peak, round_)
        assert codes(responses) == {(200, None): 1, (409, "LAST_ADMIN"): 1}, round_
        [refused] = [i for i, r in enumerate(responses) if r.status_code == 409]
        assert responses[refused].json()["type"] == "https://peerview.dev/problems/last-admin"
        survivor = targets[refused]
        assert await _active_admins(factory.app) == {survivor.id}, round_
        me = await factory.client.get("/api/auth/me", headers=survivor.headers)
        assert (me.json()["role"], me.json()["is_active"]) == ("ADMIN", True), round_
        winners["started first" if refused else "started second"] += 1
    report(f"two admins removing {whom} (which request won)", winners)


@dataclass
class HeldBack:
    """`users_service.admin_update` with the requests of one asker held, once past the token
    and role checks, until `release` is set."""

    asker_id: str
    admit: Callable[..., Awaitable[Any]]
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def __call__(self, ctx: Any, **kwargs: Any) -> Any:
        if ctx.actor.id == self.asker_id:
            self.arrived.set()
            async with asyncio.timeout(30):
                await self.release.wait()
        return await self.admit(ctx, **kwargs)


async def test_an_admin_removed_while_their_change_waits_is_refused(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A's change of C has passed the token check when B demotes or deactivates A. What A asked
    # then runs as their next request would: 403 FORBIDDEN, C untouched, on both databases.
    for round_, removal in enumerate(REPEATS * [{"role": "INTERVIEWER"}, {"is_active": False}]):
        a, b, c = await factory.admin(), await factory.admin(), await factory.admin()
        held = HeldBack(a.id, users_service.admin_update)
        with monkeypatch.context() as patched:
            patched.setattr(users_service, "admin_update", held)
            waiting = asyncio.create_task(
                factory.client.patch(
                    f"/api/users/{c.id}", json={"role": "INTERVIEWEE"}, headers=a.headers
                )
            )
            async with asyncio.timeout(30):
                await held.arrived.wait()
            removed = await factory.client.patch(
                f"/api/users/{a.id}", json=removal, headers=b.headers
            )
            assert removed.status_code == 200, removed.text
            held.release.set()
            response = await waiting
        assert response.status_code == 403, (round_, response.text)
        assert response.json()["code"] == "FORBIDDEN"
        me = await factory.client.get("/api/auth/me", headers=c.headers)
        assert (me.json()["role"], me.json()["is_active"]) == ("ADMIN", True), round_


async def stored_questions(app: FastAPI, prefix: str) -> dict[str, list[str]]:
    """Title → ids of the bank's questions whose title starts with `prefix`."""
    query = select(questions.c.title, questions.c.id).where(questions.c.title.like(f"{prefix}%"))
    async with app.services.database.transaction(write=False) as db:
        rows = (await execute(db, query)).all()
    stored: dict[str, list[str]] = {}
    for title, question_id in rows:
        stored.setdefault(title, []).append(question_id)
    return stored


async def test_concurrent_imports_of_the_same_list_create_each_question_once(
    factory: Factory,
) -> None:
    # Eight admins: one admin's writes already take turns on PostgreSQL (docs/api.md §3.4).
    admins = [await factory.admin() for _ in range(8)]
    for round_ in range(REPEATS):
        prefix = f"Race {round_}:"
        body = [question_body(title=f"{prefix} question {n}") for n in range(20)]
        with connections_at_once(factory.app.services.database) as peak:
            responses = await asyncio.gather(
                *(
                    factory.client.post("/api/questions/import", json=body, headers=a.headers)
                    for a in admins
                )
            )
        assert_overlapped(factory.app.services.database, peak, round_)
        assert codes(responses) == {(201, None): 1, (200, None): 7}, round_
        [winner] = [r.json() for r in responses if r.status_code == 201]
        ids = [item["id"] for item in winner["items"]]
        for response in responses:
            answer = response.json()
            assert [item["id"] for item in answer["items"]] == ids, round_
            if response.status_code == 200:
                assert {item["reason"] for item in answer["items"]} == {"exists"}
        stored = await stored_questions(factory.app, prefix)
        assert stored == {item["title"]: [item["id"]] for item in winner["items"]}, round_


async def test_concurrent_imports_of_overlapping_lists_create_each_question_once(
    factory: Factory,
) -> None:
    admins = [await factory.admin() for _ in range(8)]
    for round_ in range(REPEATS):
        prefix = f"Overlap {round_}:"
        titles = [f"{prefix} question {n:02}" for n in range(30)]
        # Each list holds two thirds of the titles, starting at a different place.
        lists = [
            [question_body(title=titles[(start + k) % 30]) for k in range(20)]
            for start in range(0, 8 * 4, 4)
        ]
        with connections_at_once(factory.app.services.database) as peak:
            responses = await asyncio.gather(
                *(
                    factory.client.post("/api/questions/import", json=body, headers=a.headers)
                    for a, body in zip(admins, lists, strict=True)
                )
            )
        assert_overlapped(factory.app.services.database, peak, round_)
        stored = await stored_questions(factory.app, prefix)
        assert sorted(stored) == titles, round_
        assert all(len(found) == 1 for found in stored.values()), stored
        # Every answer agrees with the bank, and each question was created by one import.
        creators: Counter[str] = Counter()
        for response in responses:
            assert response.status_code in (200, 201), response.text
            for item in response.json()["items"]:
                assert stored[item["title"]] == [item["id"]], round_
                creators[item["title"]] += item["outcome"] == "created"
        assert set(creators.values()) == {1}, creators
