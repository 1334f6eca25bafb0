"""POST /api/interview-requests/{id}/accept: the session it creates and every refusal
(docs/api.md §4)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from peerview.events import RequestAccepted
from peerview.models.enums import Role
from tests.factories import Factory
from tests.flow import post_request
from tests.lifecycle.support import record_events, request_row, session_count, set_role, sweep
from tests.platform.apps import assert_problem


def url(request_id: str, action: str = "accept") -> str:
    return f"/api/interview-requests/{request_id}/{action}"


async def test_accept_returns_201_with_the_scheduled_session(factory: Factory) -> None:
    owner, interviewer = await factory.interviewee(), await factory.interviewer()
    posted = await post_request(
        factory, owner, category="Graphs", difficulty="HARD", type="BEHAVIORAL", duration_minutes=45
    )
    response = await factory.client.post(url(posted["id"]), headers=interviewer.headers)
    assert response.status_code == 201, response.text
    session = response.json()
    assert session["status"] == "SCHEDULED"
    assert session["request_id"] == posted["id"]
    assert session["interviewer"] == {"id": interviewer.id, "name": interviewer.name}
    assert session["interviewee"] == {"id": owner.id, "name": owner.name}
    assert (session["category"], session["difficulty"], session["type"]) == (
        "graphs",
        "HARD",
        "BEHAVIORAL",
    )
    assert session["scheduled_at"] == posted["scheduled_at"]
    assert session["duration_minutes"] == 45
    for name in ("started_at", "planned_end_at", "hard_end_at", "ended_at", "end_reason"):
        assert session[name] is None, name
    assert session["extended_minutes"] == 0
    assert session["interviewee_joined_at"] is None
    assert session["questions"] == []


async def test_accept_marks_the_request_accepted_with_its_session(factory: Factory) -> None:
    owner, interviewer = await factory.interviewee(), await factory.interviewer()
    posted = await post_request(factory, owner)
    session = (await factory.client.post(url(posted["id"]), headers=interviewer.headers)).json()
    request = (
        await factory.client.get(f"/api/interview-requests/{posted['id']}", headers=owner.headers)
    ).json()
    assert request["status"] == "ACCEPTED"
    assert request["session_id"] == session["id"]
    row = await request_row(factory.app, posted["id"])
    assert row["accepted_at"] == factory.clock.now()


async def test_accept_announces_request_accepted_once(factory: Factory) -> None:
    recorder = record_events(factory.app)
    owner, interviewer = await factory.interviewee(), await factory.interviewer()
    posted = await post_request(factory, owner)
    session = (await factory.client.post(url(posted["id"]), headers=interviewer.headers)).json()
    accepted = [e for e in recorder.events if isinstance(e, RequestAccepted)]
    assert len(accepted) == 1
    assert (accepted[0].request_id, accepted[0].session_id) == (posted["id"], session["id"])
    assert (accepted[0].interviewee_id, accepted[0].interviewer_id) == (owner.id, interviewer.id)


async def test_accept_of_own_request_after_a_role_change_is_403_self_accept(
    factory: Factory,
) -> None:
    user = await factory.interviewee()
    posted = await post_request(factory, user)
    await set_role(factory, user, Role.INTERVIEWER)
    response = await factory.client.post(url(posted["id"]), headers=user.headers)
    assert_problem(response, 403, "SELF_ACCEPT")
    assert (await request_row(factory.app, posted["id"]))["status"] == "OPEN"
    assert await session_count(factory.app, posted["id"]) == 0


async def test_accept_of_accepted_request_is_409_request_not_open(factory: Factory) -> None:
    posted = await post_request(factory, await factory.interviewee())
    first, second = await factory.interviewer(), await factory.interviewer()
    r = await factory.client.post(url(posted["id"]), headers=first.headers)
    assert r.status_code == 201, r.text
    assert_problem(
        await factory.client.post(url(posted["id"]), headers=second.headers),
        409,
        "REQUEST_NOT_OPEN",
    )
    assert_problem(
        await factory.client.post(url(posted["id"]), headers=first.headers),
        409,
        "REQUEST_NOT_OPEN",
    )
    assert await session_count(factory.app, posted["id"]) == 1


async def test_accept_of_accepted_request_stays_not_open_after_its_expiry(
    factory: Factory,
) -> None:
    posted = await post_request(factory, await factory.interviewee())
    r = await factory.client.post(url(posted["id"]), headers=(await factory.interviewer()).headers)
    assert r.status_code == 201, r.text
    factory.clock.set(datetime.fromisoformat(posted["expires_at"]) + timedelta(minutes=1))
    response = await factory.client.post(
        url(posted["id"]), headers=(await factory.interviewer()).headers
    )
    assert_problem(response, 409, "REQUEST_NOT_OPEN")


async def test_accept_of_cancelled_request_is_409_request_not_open(factory: Factory) -> None:
    owner = await factory.interviewee()
    posted = await post_request(factory, owner)
    r = await factory.client.post(url(posted["id"], "cancel"), headers=owner.headers)
    assert r.status_code == 200, r.text
    response = await factory.client.post(
        url(posted["id"]), headers=(await factory.interviewer()).headers
    )
    assert_problem(response, 409, "REQUEST_NOT_OPEN")


async def test_accept_of_request_expired_by_time_is_409_request_expired(
    factory: Factory,
) -> None:
    posted = await post_request(factory, await factory.interviewee())
    factory.clock.set(datetime.fromisoformat(posted["expires_at"]))  # expires_at itself
    response = await factory.client.post(
        url(posted["id"]), headers=(await factory.interviewer()).headers
    )
    assert_problem(response, 409, "REQUEST_EXPIRED")
    row = await request_row(factory.app, posted["id"])
    assert row["status"] == "OPEN"  # not swept: the refusal came from the read-time rule
    assert await session_count(factory.app, posted["id"]) == 0


async def test_accept_one_second_before_expiry_succeeds(factory: Factory) -> None:
    posted = await post_request(factory, await factory.interviewee())
    factory.clock.set(datetime.fromisoformat(posted["expires_at"]) - timedelta(seconds=1))
    response = await factory.client.post(
        url(posted["id"]), headers=(await factory.interviewer()).headers
    )
    assert response.status_code == 201, response.text


async def test_accept_of_swept_expired_request_is_409_request_expired(factory: Factory) -> None:
    posted = await post_request(factory, await factory.interviewee())
    factory.clock.set(datetime.fromisoformat(posted["expires_at"]) + timedelta(minutes=5))
    result = await sweep(factory.app, factory.clock)
    assert [r.id for r in result.expired_requests] == [posted["id"]]
    assert (await request_row(factory.app, posted["id"]))["status"] == "EXPIRED"
    response = await factory.client.post(
        url(posted["id"]), headers=(await factory.interviewer()).headers
    )
    assert_problem(response, 409, "REQUEST_EXPIRED")


@pytest.mark.parametrize("role", [Role.INTERVIEWEE, Role.ADMIN])
async def test_accept_by_non_interviewer_is_403(factory: Factory, role: Role) -> None:
    posted = await post_request(factory, await factory.interviewee())
    user = await factory.user(role)
    assert_problem(
        await factory.client.post(url(posted["id"]), headers=user.headers), 403, "FORBIDDEN"
    )
    assert await session_count(factory.app, posted["id"]) == 0


async def test_accept_by_owner_still_interviewee_is_403_by_role(factory: Factory) -> None:
    owner = await factory.interviewee()
    posted = await post_request(factory, owner)
    assert_problem(
        await factory.client.post(url(posted["id"]), headers=owner.headers), 403, "FORBIDDEN"
    )


async def test_accept_of_unknown_request_is_404(factory: Factory) -> None:
    response = await factory.client.post(
        url("00000000-0000-0000-0000-000000000000"), headers=(await factory.interviewer()).headers
    )
    assert_problem(response, 404, "REQUEST_NOT_FOUND")


async def test_accept_anonymous_is_401(factory: Factory) -> None:
    posted = await post_request(factory, await factory.interviewee())
    assert_problem(await factory.client.post(url(posted["id"])), 401)
