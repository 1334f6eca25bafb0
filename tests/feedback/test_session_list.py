"""GET /api/feedback/session/{id}: participants and admins, double-blind (docs/api.md §7)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.factories import Factory
from tests.feedback.support import (
    SEALED_FIELDS,
    given,
    sealed,
    session_items,
    session_list,
)
from tests.flow import accepted, completed, live
from tests.platform.apps import assert_problem

REVEAL = timedelta(hours=72)


async def test_own_feedback_is_always_fully_visible(factory: Factory) -> None:
    flow = await completed(factory)
    mine = await given(factory.client, flow.interviewer, flow.id)
    assert await session_items(factory.client, flow.interviewer, flow.id) == [mine]


async def test_other_feedback_is_sealed_until_the_viewer_submits_their_own(
    factory: Factory,
) -> None:
    flow = await completed(factory)
    theirs = await given(factory.client, flow.interviewer, flow.id)
    items = await session_items(factory.client, flow.interviewee, flow.id)
    assert items == [sealed(theirs)]
    assert set(items[0]) == SEALED_FIELDS
    assert items[0] == {"id": theirs["id"], "author_role": "INTERVIEWER", "hidden": True}


async def test_other_feedback_is_revealed_once_the_viewer_submits_their_own(
    factory: Factory,
) -> None:
    flow = await completed(factory)
    theirs = await given(factory.client, flow.interviewer, flow.id)
    factory.clock.advance(minutes=5)
    mine = await given(factory.client, flow.interviewee, flow.id)
    # Oldest first; each side now sees both in full.
    assert await session_items(factory.client, flow.interviewee, flow.id) == [theirs, mine]
    assert await session_items(factory.client, flow.interviewer, flow.id) == [theirs, mine]


async def test_other_feedback_is_revealed_72_hours_after_the_session_ended(
    factory: Factory,
) -> None:
    flow = await completed(factory)
    ended_at = datetime.fromisoformat(flow.session["ended_at"])
    factory.clock.advance(hours=1)
    theirs = await given(factory.client, flow.interviewer, flow.id)
    factory.clock.set(ended_at + REVEAL - timedelta(seconds=1))
    assert await session_items(factory.client, flow.interviewee, flow.id) == [sealed(theirs)]
    factory.clock.set(ended_at + REVEAL)
    assert await session_items(factory.client, flow.interviewee, flow.id) == [theirs]


async def test_reveal_counts_from_the_hard_end_of_a_timed_out_session(factory: Factory) -> None:
    # The sweeper never ran: ended_at is the hard end by the read-time rule.
    flow = await live(factory)
    hard_end_at = datetime.fromisoformat(flow.session["hard_end_at"])
    factory.clock.set(hard_end_at + timedelta(hours=10))
    theirs = await given(factory.client, flow.interviewer, flow.id)
    factory.clock.set(hard_end_at + REVEAL - timedelta(seconds=1))
    assert await session_items(factory.client, flow.interviewee, flow.id) == [sealed(theirs)]
    factory.clock.set(hard_end_at + REVEAL)
    assert await session_items(factory.client, flow.interviewee, flow.id) == [theirs]


async def test_admin_sees_every_feedback_in_full(factory: Factory) -> None:
    flow = await completed(factory)
    admin = await factory.admin()
    theirs = await given(factory.client, flow.interviewer, flow.id)
    assert await session_items(factory.client, admin, flow.id) == [theirs]
    factory.clock.advance(minutes=1)
    mine = await given(factory.client, flow.interviewee, flow.id)
    assert await session_items(factory.client, admin, flow.id) == [theirs, mine]


async def test_a_session_without_feedback_lists_nothing(factory: Factory) -> None:
    flow = await accepted(factory)
    response = await session_list(factory.client, flow.interviewee, flow.id)
    assert response.status_code == 200, response.text
    assert response.json() == {"items": [], "next_cursor": None}


async def test_third_user_gets_404_session_not_found(factory: Factory) -> None:
    flow = await completed(factory)
    await given(factory.client, flow.interviewer, flow.id)
    for outsider in (await factory.interviewer(), await factory.interviewee()):
        response = await session_list(factory.client, outsider, flow.id)
        assert_problem(response, 404, "SESSION_NOT_FOUND")


async def test_unknown_session_is_404_session_not_found(factory: Factory) -> None:
    admin = await factory.admin()
    response = await session_list(factory.client, admin, "no-such-session")
    assert_problem(response, 404, "SESSION_NOT_FOUND")


async def test_unauthenticated_is_401(factory: Factory) -> None:
    flow = await completed(factory)
    response = await factory.client.get(f"/api/feedback/session/{flow.id}")
    assert_problem(response, 401)


async def test_list_is_paginated_with_a_cursor(factory: Factory) -> None:
    flow = await completed(factory)
    first = await given(factory.client, flow.interviewer, flow.id)
    factory.clock.advance(minutes=1)
    second = await given(factory.client, flow.interviewee, flow.id)
    page = (await session_list(factory.client, flow.interviewee, flow.id, limit=1)).json()
    assert page["items"] == [first]
    assert page["next_cursor"] is not None
    rest = await session_list(
        factory.client, flow.interviewee, flow.id, limit=1, cursor=page["next_cursor"]
    )
    assert rest.json() == {"items": [second], "next_cursor": None}


async def test_seal_holds_on_every_page(factory: Factory) -> None:
    # Whether the viewer has left their own is known even when it is not on the page.
    flow = await completed(factory)
    theirs = await given(factory.client, flow.interviewer, flow.id)
    factory.clock.advance(minutes=1)
    await given(factory.client, flow.interviewee, flow.id)
    page = (await session_list(factory.client, flow.interviewee, flow.id, limit=1)).json()
    assert page["items"] == [theirs]


async def test_limit_above_100_and_bad_cursors_are_422(factory: Factory) -> None:
    flow = await completed(factory)
    too_many = await session_list(factory.client, flow.interviewee, flow.id, limit=101)
    assert_problem(too_many, 422, "VALIDATION_ERROR")
    bad = await session_list(factory.client, flow.interviewee, flow.id, cursor="not-a-cursor")
    assert_problem(bad, 422, "INVALID_CURSOR")
