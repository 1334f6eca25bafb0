"""Concurrent transactions that touch the same rollup rows still leave them equal to a recount.

On PostgreSQL each request runs on its own pooled connection, so these changes really overlap:
new rollup keys inserted by two transactions at once, increments of one hot row, a person's
week recorded by two transactions (counted once), sweepers splitting a backlog.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from tests.analytics import recount
from tests.factories import Factory
from tests.feedback.support import give
from tests.flow import post_request
from tests.lifecycle.support import sweep


async def test_concurrent_changes_leave_the_rollups_equal_to_a_recount(factory: Factory) -> None:
    client = factory.client
    interviewers = [await factory.interviewer() for _ in range(4)]
    interviewees = [await factory.interviewee() for _ in range(6)]
    posted = await asyncio.gather(
        *(
            post_request(
                factory,
                interviewee,
                scheduled_in=timedelta(days=1, hours=3 * n + k),
                category=("arrays", "graphs")[k % 2],
            )
            for n, interviewee in enumerate(interviewees)
            for k in range(3)
        )
    )
    factory.clock.advance(minutes=7)
    # Every interviewer tries every request at once: one acceptance each.
    answers = await asyncio.gather(
        *(
            client.post(f"/api/interview-requests/{r['id']}/accept", headers=i.headers)
            for r in posted
            for i in interviewers
        )
    )
    sessions = sorted(
        (a.json() for a in answers if a.status_code == 201), key=lambda s: s["scheduled_at"]
    )
    assert len(sessions) == len(posted)
    by_id = {u.id: u for u in interviewers + interviewees}
    # Every other one cancelled, all at once; the rest started and ended in turn.
    held, cancelled = sessions[::2], sessions[1::2]
    await asyncio.gather(
        *(
            client.post(
                f"/api/interview-sessions/{s['id']}/cancel",
                json={},
                headers=by_id[s["interviewee"]["id"]].headers,
            )
            for s in cancelled
        )
    )
    for s in held:
        factory.clock.set(datetime.fromisoformat(s["scheduled_at"]))
        interviewer = by_id[s["interviewer"]["id"]]
        path = f"/api/interview-sessions/{s['id']}"
        assert (await client.post(f"{path}/start", headers=interviewer.headers)).is_success
        factory.clock.advance(minutes=20)
        assert (await client.post(f"{path}/end", headers=interviewer.headers)).is_success
    # Both sides' feedback on every finished session, all at once (one hot rollup row a day
    # and category).
    given = await asyncio.gather(
        *(
            give(client, by_id[s[side]["id"]], s["id"])
            for s in held
            for side in ("interviewer", "interviewee")
        )
    )
    assert all(g.status_code == 201 for g in given)
    # New requests, then past their expiry, with three sweepers at once.
    await asyncio.gather(
        *(post_request(factory, i, scheduled_in=timedelta(hours=6)) for i in interviewees)
    )
    factory.clock.advance(hours=2)
    await asyncio.gather(*(sweep(factory.app, factory.clock) for _ in range(3)))
    database = factory.app.services.database
    if database.dialect == "postgresql":
        assert database.peak > 1, "the transactions did not overlap"
    async with database.transaction(write=False) as db:
        await recount.check(db)
