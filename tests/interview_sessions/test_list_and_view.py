"""GET /api/interview-sessions and /{id}: the caller's sessions, and who may view one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from peerview.models.enums import Role
from tests import factories
from tests.factories import Factory
from tests.flow import accepted, completed, live
from tests.platform.apps import assert_problem

URL = "/api/interview-sessions"


async def listed(factory: Factory, user: factories.TestUser, **params: Any) -> list[str]:
    response = await factory.client.get(URL, params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["items"]]


async def test_list_shows_the_callers_sessions_soonest_first(factory: Factory) -> None:
    interviewer = await factory.interviewer()
    interviewee = await factory.interviewee()
    later = await accepted(
        factory, interviewer=interviewer, interviewee=interviewee, scheduled_in=timedelta(days=3)
    )
    sooner = await accepted(factory, interviewer=interviewer, scheduled_in=timedelta(days=1))
    middle = await accepted(factory, interviewee=interviewee, scheduled_in=timedelta(days=2))
    await accepted(factory)  # neither's
    assert await listed(factory, interviewer) == [sooner.id, later.id]
    assert await listed(factory, interviewee) == [middle.id, later.id]


async def test_list_is_empty_for_a_user_without_sessions(factory: Factory) -> None:
    await accepted(factory)
    assert await listed(factory, await factory.admin()) == []


async def test_list_status_filter(factory: Factory) -> None:
    interviewer = await factory.interviewer()
    scheduled = await accepted(factory, interviewer=interviewer, scheduled_in=timedelta(days=5))
    done = await completed(factory, interviewer=interviewer, scheduled_in=timedelta(days=1))
    assert await listed(factory, interviewer, status="SCHEDULED") == [scheduled.id]
    assert await listed(factory, interviewer, status="COMPLETED") == [done.id]
    assert await listed(factory, interviewer, status="LIVE") == []


async def test_list_status_filter_uses_the_read_time_rule(factory: Factory) -> None:
    interviewer = await factory.interviewer()
    running = await live(factory, interviewer=interviewer, scheduled_in=timedelta(days=1))
    missed = await accepted(
        factory, interviewer=interviewer, scheduled_in=timedelta(days=1, hours=2)
    )
    waiting = await accepted(factory, interviewer=interviewer, scheduled_in=timedelta(days=3))
    settings = factory.app.services.settings
    # Past running's hard end and missed's no-show deadline; nothing swept.
    factory.clock.set(missed.scheduled_at + timedelta(minutes=settings.no_show_minutes, seconds=1))
    assert await listed(factory, interviewer, status="COMPLETED") == [running.id]
    assert await listed(factory, interviewer, status="LIVE") == []
    assert await listed(factory, interviewer, status="CANCELLED") == [missed.id]
    assert await listed(factory, interviewer, status="SCHEDULED") == [waiting.id]
    response = await factory.client.get(URL, headers=interviewer.headers)
    statuses = {s["id"]: (s["status"], s["end_reason"]) for s in response.json()["items"]}
    assert statuses == {
        running.id: ("COMPLETED", "AUTO_TIMEOUT"),
        missed.id: ("CANCELLED", "NO_SHOW"),
        waiting.id: ("SCHEDULED", None),
    }


async def test_list_pages_without_gaps(factory: Factory) -> None:
    interviewer = await factory.interviewer()
    ids = [
        (await accepted(factory, interviewer=interviewer, scheduled_in=timedelta(days=d))).id
        for d in range(1, 6)
    ]
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = (await factory.client.get(URL, params=params, headers=interviewer.headers)).json()
        seen.extend(s["id"] for s in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ids


async def test_list_limit_101_is_422(factory: Factory) -> None:
    user = await factory.interviewer()
    response = await factory.client.get(URL, params={"limit": 101}, headers=user.headers)
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_list_unknown_status_is_422(factory: Factory) -> None:
    user = await factory.interviewer()
    response = await factory.client.get(URL, params={"status": "OVER"}, headers=user.headers)
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_participants_and_admins_view_a_session(factory: Factory) -> None:
    flow = await accepted(factory)
    for user in (flow.interviewer, flow.interviewee, await factory.admin()):
        response = await factory.client.get(f"{URL}/{flow.id}", headers=user.headers)
        assert response.status_code == 200, response.text
        assert response.json() == flow.session


@pytest.mark.parametrize("role", [Role.INTERVIEWER, Role.INTERVIEWEE])
async def test_third_user_viewing_a_session_gets_404(factory: Factory, role: Role) -> None:
    flow = await accepted(factory)
    third = await factory.user(role)
    response = await factory.client.get(f"{URL}/{flow.id}", headers=third.headers)
    assert_problem(response, 404, "SESSION_NOT_FOUND")


async def test_unknown_session_is_404(factory: Factory) -> None:
    admin = await factory.admin()
    response = await factory.client.get(
        f"{URL}/00000000-0000-0000-0000-000000000000", headers=admin.headers
    )
    assert_problem(response, 404, "SESSION_NOT_FOUND")
