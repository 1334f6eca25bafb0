"""GET /api/interview-requests/open: open, unexpired, soonest first, filtered, paginated."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from peerview.interview_requests import repository as requests_repository
from peerview.models.enums import Role
from tests.factories import Factory
from tests.flow import post_request
from tests.lifecycle.support import sweep
from tests.platform.apps import assert_problem

URL = "/api/interview-requests/open"


async def open_ids(factory: Factory, **params: Any) -> list[str]:
    viewer = await factory.interviewer()
    response = await factory.client.get(URL, params=params, headers=viewer.headers)
    assert response.status_code == 200, response.text
    return [r["id"] for r in response.json()["items"]]


@pytest.mark.parametrize("role", [Role.INTERVIEWER, Role.ADMIN])
async def test_open_list_is_for_interviewers_and_admins(factory: Factory, role: Role) -> None:
    posted = await post_request(factory, await factory.interviewee())
    viewer = await factory.user(role)
    response = await factory.client.get(URL, headers=viewer.headers)
    assert response.status_code == 200, response.text
    assert [r["id"] for r in response.json()["items"]] == [posted["id"]]
    assert response.json()["next_cursor"] is None


async def test_open_list_is_403_for_interviewees(factory: Factory) -> None:
    viewer = await factory.interviewee()
    assert_problem(await factory.client.get(URL, headers=viewer.headers), 403, "FORBIDDEN")


async def test_open_list_shows_only_open_requests(factory: Factory) -> None:
    owner = await factory.interviewee()
    interviewer = await factory.interviewer()
    keep = await post_request(factory, owner, scheduled_in=timedelta(days=1))
    accepted = await post_request(factory, owner, scheduled_in=timedelta(days=2))
    cancelled = await post_request(factory, owner, scheduled_in=timedelta(days=3))
    r = await factory.client.post(
        f"/api/interview-requests/{accepted['id']}/accept", headers=interviewer.headers
    )
    assert r.status_code == 201, r.text
    r = await factory.client.post(
        f"/api/interview-requests/{cancelled['id']}/cancel", headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert await open_ids(factory) == [keep["id"]]


async def test_expired_request_is_not_listed_before_the_sweeper_runs(factory: Factory) -> None:
    owner = await factory.interviewee()
    buffer = timedelta(hours=factory.app.services.settings.request_expiry_buffer_hours)
    soon = await post_request(factory, owner, scheduled_in=buffer + timedelta(hours=1))
    later = await post_request(factory, owner, scheduled_in=timedelta(days=2))
    assert await open_ids(factory) == [soon["id"], later["id"]]
    factory.clock.advance(hours=1)  # soon's expires_at is now: it is EXPIRED, unswept
    assert await open_ids(factory) == [later["id"]]
    result = await sweep(factory.app, factory.clock)
    assert [r.id for r in result.expired_requests] == [soon["id"]]
    assert await open_ids(factory) == [later["id"]]


async def test_open_list_is_soonest_first(factory: Factory) -> None:
    owner = await factory.interviewee()
    ids = {}
    for hours in (50, 10, 30, 20, 40):
        posted = await post_request(factory, owner, scheduled_in=timedelta(hours=hours))
        ids[hours] = posted["id"]
    assert await open_ids(factory) == [ids[h] for h in sorted(ids)]


async def test_open_list_filters_by_category_case_insensitively(factory: Factory) -> None:
    owner = await factory.interviewee()
    graphs = await post_request(factory, owner, category="Graphs")
    await post_request(factory, owner, category="arrays")
    assert await open_ids(factory, category="GRAPHS") == [graphs["id"]]
    assert await open_ids(factory, category="graphs") == [graphs["id"]]


async def test_open_list_filters_by_difficulty(factory: Factory) -> None:
    owner = await factory.interviewee()
    hard = await post_request(factory, owner, difficulty="HARD")
    await post_request(factory, owner, difficulty="EASY")
    assert await open_ids(factory, difficulty="HARD") == [hard["id"]]


async def test_open_list_filters_by_type(factory: Factory) -> None:
    owner = await factory.interviewee()
    design = await post_request(factory, owner, type="SYSTEM_DESIGN")
    await post_request(factory, owner, type="CODING")
    assert await open_ids(factory, type="SYSTEM_DESIGN") == [design["id"]]


async def test_open_list_filters_by_from_and_to_inclusive(factory: Factory) -> None:
    owner = await factory.interviewee()
    posted = [
        await post_request(factory, owner, scheduled_in=timedelta(days=day)) for day in (1, 2, 3)
    ]
    second = datetime.fromisoformat(posted[1]["scheduled_at"])
    ids = [p["id"] for p in posted]
    assert await open_ids(factory, **{"from": second.isoformat()}) == ids[1:]
    assert await open_ids(factory, to=second.isoformat()) == ids[:2]
    both = {"from": second.isoformat(), "to": second.isoformat()}
    assert await open_ids(factory, **both) == [ids[1]]


async def test_open_list_filters_combine(factory: Factory) -> None:
    owner = await factory.interviewee()
    match = await post_request(
        factory, owner, category="trees", difficulty="HARD", type="CONCEPTUAL"
    )
    await post_request(factory, owner, category="trees", difficulty="HARD", type="CODING")
    await post_request(factory, owner, category="trees", difficulty="EASY", type="CONCEPTUAL")
    params = {"category": "trees", "difficulty": "HARD", "type": "CONCEPTUAL"}
    assert await open_ids(factory, **params) == [match["id"]]


async def test_open_list_from_without_offset_is_422(factory: Factory) -> None:
    viewer = await factory.interviewer()
    response = await factory.client.get(
        URL, params={"from": "2030-01-08T10:00:00"}, headers=viewer.headers
    )
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == ["from"]


async def test_open_list_pages_with_cursor_without_gaps_or_duplicates(factory: Factory) -> None:
    owners = [await factory.interviewee() for _ in range(3)]
    expected: list[tuple[datetime, str]] = []
    # Pairs at the same instant, so the id breaks ties across page boundaries.
    for i in range(13):
        owner = owners[i % 3]
        posted = await post_request(factory, owner, scheduled_in=timedelta(hours=10 + i // 2))
        expected.append((datetime.fromisoformat(posted["scheduled_at"]), posted["id"]))
    expected.sort()
    viewer = await factory.interviewer()
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 4}
        if cursor is not None:
            params["cursor"] = cursor
        response = await factory.client.get(URL, params=params, headers=viewer.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page["items"]) <= 4
        seen.extend(r["id"] for r in page["items"])
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [request_id for _, request_id in expected]
    assert pages == 4


async def test_open_list_default_limit_is_20(factory: Factory) -> None:
    owners = [await factory.interviewee() for _ in range(5)]
    for i in range(21):
        await post_request(factory, owners[i % 5], scheduled_in=timedelta(hours=10 + i))
    viewer = await factory.interviewer()
    page = (await factory.client.get(URL, headers=viewer.headers)).json()
    assert len(page["items"]) == 20
    assert page["next_cursor"] is not None


async def test_open_list_limit_100_is_allowed(factory: Factory) -> None:
    viewer = await factory.interviewer()
    response = await factory.client.get(URL, params={"limit": 100}, headers=viewer.headers)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("limit", [101, 0])
async def test_open_list_limit_out_of_range_is_422(factory: Factory, limit: int) -> None:
    viewer = await factory.interviewer()
    response = await factory.client.get(URL, params={"limit": limit}, headers=viewer.headers)
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == ["limit"]


async def test_open_list_bad_cursor_is_422(factory: Factory) -> None:
    viewer = await factory.interviewer()
    response = await factory.client.get(URL, params={"cursor": "nonsense"}, headers=viewer.headers)
    assert_problem(response, 422)


async def test_open_list_wrong_role_is_403_before_input_is_checked(factory: Factory) -> None:
    viewer = await factory.interviewee()
    response = await factory.client.get(URL, params={"limit": 101}, headers=viewer.headers)
    assert_problem(response, 403, "FORBIDDEN")


async def test_open_list_on_sqlite_walks_the_scheduled_index_and_stops_at_the_page(
    factory: Factory,
) -> None:
    """The page is read in its own order from (status, scheduled_at): no scan of every open
    request through the expiry index followed by a sort of all of them."""
    database = factory.app.services.database
    if database.dialect != "sqlite":
        pytest.skip("SQLite's query plan")
    for cursor in (False, True):
        query = requests_repository._OPEN(False, False, False, False, False, cursor)
        plan = query.plan("sqlite")
        params = {"now": factory.clock.now(), "limit": 21}
        if cursor:
            params.update(cursor_0=factory.clock.now(), cursor_1="x")
        async with database.acquire() as db:
            steps = [
                row[3]
                for row in db.raw.execute(f"EXPLAIN QUERY PLAN {plan.sql}", plan.args(params))
            ]  # type: ignore[attr-defined]
        assert any("USING INDEX ix_interview_requests_open" in step for step in steps), steps
        assert not any("expires" in step for step in steps), steps
        assert "USE TEMP B-TREE FOR ORDER BY" not in steps, steps
