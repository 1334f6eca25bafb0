"""GET /api/interview-requests/mine: created (interviewee) or accepted (interviewer)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests import factories
from tests.factories import Factory
from tests.flow import accepted, post_request
from tests.platform.apps import assert_problem

URL = "/api/interview-requests/mine"


async def mine(factory: Factory, user: factories.TestUser, **params: Any) -> list[dict[str, Any]]:
    response = await factory.client.get(URL, params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_mine_lists_the_requests_an_interviewee_created_newest_first(
    factory: Factory,
) -> None:
    owner, other = await factory.interviewee(), await factory.interviewee()
    ids = []
    for day in (3, 1, 2):
        ids.append((await post_request(factory, owner, scheduled_in=timedelta(days=day)))["id"])
        factory.clock.advance(minutes=1)
    await post_request(factory, other)
    assert [r["id"] for r in await mine(factory, owner)] == ids[::-1]


async def test_mine_lists_the_requests_an_interviewer_accepted(factory: Factory) -> None:
    interviewer = await factory.interviewer()
    first = await accepted(factory, interviewer=interviewer, scheduled_in=timedelta(days=1))
    factory.clock.advance(minutes=1)
    second = await accepted(factory, interviewer=interviewer, scheduled_in=timedelta(days=2))
    await post_request(factory, await factory.interviewee())  # open, not theirs
    await accepted(factory)  # someone else's
    items = await mine(factory, interviewer)
    assert [r["id"] for r in items] == [
        second.session["request_id"],
        first.session["request_id"],
    ]
    assert [r["session_id"] for r in items] == [second.id, first.id]
    assert {r["status"] for r in items} == {"ACCEPTED"}


async def test_mine_shows_the_session_id_of_an_accepted_request(factory: Factory) -> None:
    flow = await accepted(factory)
    [item] = await mine(factory, flow.interviewee)
    assert item["status"] == "ACCEPTED"
    assert item["session_id"] == flow.id


async def test_mine_status_filter(factory: Factory) -> None:
    owner = await factory.interviewee()
    keep = await post_request(factory, owner)
    gone = await post_request(factory, owner)
    r = await factory.client.post(
        f"/api/interview-requests/{gone['id']}/cancel", headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert [r["id"] for r in await mine(factory, owner, status="OPEN")] == [keep["id"]]
    assert [r["id"] for r in await mine(factory, owner, status="CANCELLED")] == [gone["id"]]
    assert await mine(factory, owner, status="ACCEPTED") == []


async def test_mine_status_filter_uses_the_read_time_rule(factory: Factory) -> None:
    owner = await factory.interviewee()
    buffer = timedelta(hours=factory.app.services.settings.request_expiry_buffer_hours)
    soon = await post_request(factory, owner, scheduled_in=buffer + timedelta(minutes=30))
    later = await post_request(factory, owner, scheduled_in=timedelta(days=2))
    factory.clock.advance(minutes=30)  # soon is EXPIRED by time; the row still says OPEN
    expired = await mine(factory, owner, status="EXPIRED")
    assert [r["id"] for r in expired] == [soon["id"]]
    assert expired[0]["status"] == "EXPIRED"
    assert [r["id"] for r in await mine(factory, owner, status="OPEN")] == [later["id"]]
    statuses = {r["id"]: r["status"] for r in await mine(factory, owner)}
    assert statuses == {soon["id"]: "EXPIRED", later["id"]: "OPEN"}


async def test_mine_unknown_status_is_422(factory: Factory) -> None:
    owner = await factory.interviewee()
    response = await factory.client.get(URL, params={"status": "DONE"}, headers=owner.headers)
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_mine_pages_without_gaps(factory: Factory) -> None:
    owner = await factory.interviewee()
    ids = []
    for day in range(1, 6):
        ids.append((await post_request(factory, owner, scheduled_in=timedelta(days=day)))["id"])
    # Same created_at for all: the id breaks the tie.
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await factory.client.get(URL, params=params, headers=owner.headers)).json()
        seen.extend(r["id"] for r in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)
    assert len(seen) == len(set(seen))


async def test_mine_limit_101_is_422(factory: Factory) -> None:
    owner = await factory.interviewee()
    response = await factory.client.get(URL, params={"limit": 101}, headers=owner.headers)
    assert_problem(response, 422, "VALIDATION_ERROR")
