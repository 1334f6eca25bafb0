"""POST /api/interview-sessions/{id}/join: the lobby, the live room, and what join records."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests import factories
from tests.factories import Factory
from tests.flow import Flow, accepted, completed, live
from tests.lifecycle.support import session_row
from tests.platform.apps import assert_problem


async def join(factory: Factory, flow: Flow, user: factories.TestUser) -> dict[str, Any]:
    response = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/join", headers=user.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_join_returns_session_realtime_and_ice_servers(factory: Factory) -> None:
    flow = await accepted(factory)
    body = await join(factory, flow, flow.interviewer)
    assert set(body) == {"session", "realtime", "ice_servers"}
    assert body["session"] == flow.session
    assert body["realtime"] == {"path": "/socket.io", "room": f"session:{flow.id}"}
    assert isinstance(body["ice_servers"], list)
    for server in body["ice_servers"]:
        assert isinstance(server, dict)
        assert server["urls"]


async def test_join_in_the_lobby_is_allowed_for_both_participants(factory: Factory) -> None:
    flow = await accepted(factory)
    for user in (flow.interviewer, flow.interviewee):
        body = await join(factory, flow, user)
        assert body["session"]["status"] == "SCHEDULED"


async def test_interviewee_joining_the_lobby_does_not_record_joined_at(factory: Factory) -> None:
    flow = await accepted(factory)
    body = await join(factory, flow, flow.interviewee)
    assert body["session"]["interviewee_joined_at"] is None
    assert (await session_row(factory.app, flow.id))["interviewee_joined_at"] is None


async def test_interviewee_joining_live_records_joined_at_once(factory: Factory) -> None:
    flow = await live(factory)
    factory.clock.advance(minutes=3)
    first_at = factory.clock.now()
    body = await join(factory, flow, flow.interviewee)
    recorded = body["session"]["interviewee_joined_at"]
    assert datetime.fromisoformat(recorded) == first_at
    factory.clock.advance(minutes=5)
    body = await join(factory, flow, flow.interviewee)
    assert body["session"]["interviewee_joined_at"] == recorded
    assert (await session_row(factory.app, flow.id))["interviewee_joined_at"] == first_at


async def test_interviewer_joining_live_does_not_record_interviewee_joined_at(
    factory: Factory,
) -> None:
    flow = await live(factory)
    body = await join(factory, flow, flow.interviewer)
    assert body["session"]["interviewee_joined_at"] is None
    assert (await session_row(factory.app, flow.id))["interviewee_joined_at"] is None


async def test_join_does_not_change_the_lifecycle(factory: Factory) -> None:
    flow = await live(factory)
    before = await session_row(factory.app, flow.id)
    await join(factory, flow, flow.interviewer)
    await join(factory, flow, flow.interviewee)
    after = await session_row(factory.app, flow.id)
    for name in ("status", "started_at", "planned_end_at", "hard_end_at", "version"):
        assert after[name] == before[name], name


async def test_join_of_completed_session_is_409_invalid_session_state(factory: Factory) -> None:
    flow = await completed(factory)
    for user in (flow.interviewer, flow.interviewee):
        response = await factory.client.post(
            f"/api/interview-sessions/{flow.id}/join", headers=user.headers
        )
        assert_problem(response, 409, "INVALID_SESSION_STATE")


async def test_join_of_cancelled_session_is_409_invalid_session_state(factory: Factory) -> None:
    flow = await accepted(factory)
    r = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewer.headers
    )
    assert r.status_code == 200, r.text
    response = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/join", headers=flow.interviewee.headers
    )
    assert_problem(response, 409, "INVALID_SESSION_STATE")


async def test_join_of_session_timed_out_by_time_is_409_and_records_nothing(
    factory: Factory,
) -> None:
    flow = await live(factory)
    factory.clock.set(datetime.fromisoformat(flow.session["hard_end_at"]))
    response = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/join", headers=flow.interviewee.headers
    )
    assert_problem(response, 409, "INVALID_SESSION_STATE")
    assert (await session_row(factory.app, flow.id))["interviewee_joined_at"] is None


async def test_join_of_missed_session_is_409(factory: Factory) -> None:
    flow = await accepted(factory)
    no_show = timedelta(minutes=factory.app.services.settings.no_show_minutes)
    factory.clock.set(flow.scheduled_at + no_show)
    response = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/join", headers=flow.interviewer.headers
    )
    assert_problem(response, 409, "INVALID_SESSION_STATE")
