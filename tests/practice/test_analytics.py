"""Practice sessions in the platform's analytics (docs/api.md §10.2): their rollups are what a
recount of the rows gives, and they count as sessions, never as requests or feedback."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from tests.analytics import recount
from tests.factories import Factory
from tests.lifecycle.support import sweep
from tests.practice.support import interviewer_of, practice_question, started


async def test_practice_sessions_keep_the_rollups_equal_to_a_recount(
    factory: Factory, app: FastAPI, client: httpx.AsyncClient
) -> None:
    for _ in range(3):
        await practice_question(factory)
    ended_by_hand, timed_out, live = [await factory.interviewee() for _ in range(3)]
    first = await started(factory, ended_by_hand)
    await client.post(
        f"/api/interview-sessions/{first['session']['id']}/end", headers=ended_by_hand.headers
    )
    await started(factory, timed_out, duration_minutes=15)
    factory.clock.advance(minutes=50)
    await started(factory, live)
    await sweep(app, factory.clock)
    await interviewer_of(app).idle()
    async with app.services.database.transaction(write=False) as db:
        await recount.check(db)
    admin = await factory.admin()
    platform = (await client.get("/api/analytics/platform", headers=admin.headers)).json()
    sessions = platform["sessions"]
    assert (sessions["completed"], sessions["auto_timeout"], sessions["live"]) == (1, 1, 1)
    assert platform["funnel"]["created"] == 0
    assert platform["ratings_by_category"] == []
    assert sum(week["users"] for week in platform["active_users_weekly"]) == 3
