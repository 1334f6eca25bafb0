"""Drive the interview flow through the API in one line: request, accept, start, end."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from tests.factories import Factory, TestUser


@dataclass
class Flow:
    """An accepted request's session and its two people."""

    session: dict[str, Any]
    interviewer: TestUser
    interviewee: TestUser

    @property
    def id(self) -> str:
        return str(self.session["id"])

    @property
    def scheduled_at(self) -> datetime:
        return datetime.fromisoformat(self.session["scheduled_at"])


async def post_request(
    factory: Factory,
    interviewee: TestUser,
    *,
    scheduled_in: timedelta = timedelta(days=1),
    **fields: Any,
) -> dict[str, Any]:
    body = {
        "category": "arrays",
        "difficulty": "MEDIUM",
        "type": "CODING",
        "scheduled_at": (factory.clock.now() + scheduled_in).isoformat(),
        "duration_minutes": 60,
        **fields,
    }
    response = await factory.client.post(
        "/api/interview-requests", json=body, headers=interviewee.headers
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def accepted(
    factory: Factory,
    *,
    interviewer: TestUser | None = None,
    interviewee: TestUser | None = None,
    scheduled_in: timedelta = timedelta(days=1),
    **fields: Any,
) -> Flow:
    interviewer = interviewer or await factory.interviewer()
    interviewee = interviewee or await factory.interviewee()
    request = await post_request(factory, interviewee, scheduled_in=scheduled_in, **fields)
    response = await factory.client.post(
        f"/api/interview-requests/{request['id']}/accept", headers=interviewer.headers
    )
    assert response.status_code == 201, response.text
    return Flow(session=response.json(), interviewer=interviewer, interviewee=interviewee)


async def live(factory: Factory, **kwargs: Any) -> Flow:
    flow = await accepted(factory, **kwargs)
    factory.clock.set(flow.scheduled_at)
    response = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/start", headers=flow.interviewer.headers
    )
    assert response.status_code == 200, response.text
    flow.session = response.json()
    return flow


async def completed(factory: Factory, *, minutes: float = 45, **kwargs: Any) -> Flow:
    flow = await live(factory, **kwargs)
    factory.clock.advance(minutes=minutes)
    response = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/end", headers=flow.interviewer.headers
    )
    assert response.status_code == 200, response.text
    flow.session = response.json()
    return flow
