"""GET /api/feedback/received: feedback about the caller, as the double-blind allows
(docs/api.md §7)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.factories import Factory
from tests.feedback.support import given, received, received_items, sealed
from tests.flow import completed, live
from tests.platform.apps import assert_problem

REVEAL = timedelta(hours=72)


async def test_received_lists_only_feedback_about_the_caller(factory: Factory) -> None:
    flow = await completed(factory)
    about_interviewee = await given(factory.client, flow.interviewer, flow.id)
    about_interviewer = await given(factory.client, flow.interviewee, flow.id)
    assert await received_items(factory.client, flow.interviewee) == [about_interviewee]
    assert await received_items(factory.client, flow.interviewer) == [about_interviewer]


async def test_received_is_newest_first_across_sessions(factory: Factory) -> None:
    first = await completed(factory)
    older = await given(factory.client, first.interviewer, first.id)
    await given(factory.client, first.interviewee, first.id)
    second = await completed(factory, interviewee=first.interviewee)
    newer = await given(factory.client, second.interviewer, second.id)
    await given(factory.client, second.interviewee, second.id)
    assert await received_items(factory.client, first.interviewee) == [newer, older]


async def test_received_item_is_sealed_until_the_caller_submits_their_own(
    factory: Factory,
) -> None:
    flow = await completed(factory)
    about_me = await given(factory.client, flow.interviewer, flow.id)
    assert await received_items(factory.client, flow.interviewee) == [sealed(about_me)]
    await given(factory.client, flow.interviewee, flow.id)
    assert await received_items(factory.client, flow.interviewee) == [about_me]


async def test_received_item_is_revealed_72_hours_after_the_session_ended(
    factory: Factory,
) -> None:
    flow = await completed(factory)
    ended_at = datetime.fromisoformat(flow.session["ended_at"])
    about_me = await given(factory.client, flow.interviewer, flow.id)
    factory.clock.set(ended_at + REVEAL - timedelta(seconds=1))
    assert await received_items(factory.client, flow.interviewee) == [sealed(about_me)]
    factory.clock.set(ended_at + REVEAL)
    assert await received_items(factory.client, flow.interviewee) == [about_me]


async def test_received_reveal_counts_from_the_hard_end_of_a_timed_out_session(
    factory: Factory,
) -> None:
    flow = await live(factory)
    hard_end_at = datetime.fromisoformat(flow.session["hard_end_at"])
    factory.clock.set(hard_end_at + timedelta(hours=1))
    about_me = await given(factory.client, flow.interviewer, flow.id)
    factory.clock.set(hard_end_at + REVEAL - timedelta(seconds=1))
    assert await received_items(factory.client, flow.interviewee) == [sealed(about_me)]
    factory.clock.set(hard_end_at + REVEAL)
    assert await received_items(factory.client, flow.interviewee) == [about_me]


async def test_seal_is_per_session(factory: Factory) -> None:
    first = await completed(factory)
    about_me_first = await given(factory.client, first.interviewer, first.id)
    await given(factory.client, first.interviewee, first.id)
    second = await completed(factory, interviewee=first.interviewee)
    about_me_second = await given(factory.client, second.interviewer, second.id)
    assert await received_items(factory.client, first.interviewee) == [
        sealed(about_me_second),
        about_me_first,
    ]


async def test_received_is_empty_for_someone_nobody_wrote_about(factory: Factory) -> None:
    flow = await completed(factory)
    await given(factory.client, flow.interviewer, flow.id)
    outsider = await factory.interviewee()
    response = await received(factory.client, outsider)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_cursor": None}


async def test_received_is_paginated_with_a_cursor(factory: Factory) -> None:
    interviewee = await factory.interviewee()
    expected: list[Any] = []
    for _ in range(3):
        flow = await completed(factory, interviewee=interviewee)
        await given(factory.client, flow.interviewee, flow.id)
        expected.insert(0, await given(factory.client, flow.interviewer, flow.id))
    seen: list[Any] = []
    cursor = None
    for _ in range(3):
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = (await received(factory.client, interviewee, **params)).json()
        seen.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected


async def test_unauthenticated_is_401(factory: Factory) -> None:
    assert_problem(await factory.client.get("/api/feedback/received"), 401)


async def test_bad_cursor_is_422(factory: Factory) -> None:
    user = await factory.interviewee()
    assert_problem(await received(factory.client, user, cursor="%%%"), 422, "INVALID_CURSOR")
