"""The happy path end to end: request, accept, join, start, extend, end."""

from __future__ import annotations

from datetime import timedelta

from tests.factories import Factory
from tests.flow import accepted


async def test_request_to_completed_session(factory: Factory) -> None:
    flow = await accepted(factory)
    client = factory.client
    assert flow.session["status"] == "SCHEDULED"
    factory.clock.set(flow.scheduled_at - timedelta(minutes=5))
    r = await client.post(
        f"/api/interview-sessions/{flow.id}/start", headers=flow.interviewer.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "LIVE"
    r = await client.post(
        f"/api/interview-sessions/{flow.id}/join", headers=flow.interviewee.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["session"]["interviewee_joined_at"] is not None
    r = await client.post(
        f"/api/interview-sessions/{flow.id}/extend",
        json={"minutes": 10},
        headers=flow.interviewer.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["extended_minutes"] == 10
    r = await client.post(
        f"/api/interview-sessions/{flow.id}/end", headers=flow.interviewer.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "COMPLETED"
    assert r.json()["end_reason"] == "ENDED_BY_INTERVIEWER"
