"""GET /api/interview-requests/{id}: owner, its interviewer, any interviewer while open, admins."""

from __future__ import annotations

from datetime import timedelta

from tests import factories
from tests.factories import Factory
from tests.flow import accepted, post_request
from tests.platform.apps import assert_problem


def url(request_id: str) -> str:
    return f"/api/interview-requests/{request_id}"


async def get(factory: Factory, request_id: str, user: factories.TestUser) -> int:
    response = await factory.client.get(url(request_id), headers=user.headers)
    if response.status_code == 404:
        assert_problem(response, 404, "REQUEST_NOT_FOUND")
    return response.status_code


async def test_owner_sees_their_request(factory: Factory) -> None:
    owner = await factory.interviewee()
    posted = await post_request(factory, owner)
    response = await factory.client.get(url(posted["id"]), headers=owner.headers)
    assert response.status_code == 200, response.text
    assert response.json() == posted


async def test_any_interviewer_sees_an_open_request(factory: Factory) -> None:
    posted = await post_request(factory, await factory.interviewee())
    assert await get(factory, posted["id"], await factory.interviewer()) == 200


async def test_admin_sees_any_request(factory: Factory) -> None:
    flow = await accepted(factory)
    assert await get(factory, flow.session["request_id"], await factory.admin()) == 200


async def test_another_interviewee_gets_404(factory: Factory) -> None:
    posted = await post_request(factory, await factory.interviewee())
    assert await get(factory, posted["id"], await factory.interviewee()) == 404


async def test_its_interviewer_sees_it_after_accepting(factory: Factory) -> None:
    flow = await accepted(factory)
    response = await factory.client.get(
        url(flow.session["request_id"]), headers=flow.interviewer.headers
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ACCEPTED"
    assert response.json()["session_id"] == flow.id


async def test_other_interviewer_gets_404_once_someone_else_accepted(factory: Factory) -> None:
    flow = await accepted(factory)
    assert await get(factory, flow.session["request_id"], await factory.interviewer()) == 404


async def test_other_interviewer_gets_404_once_it_expired_by_time(factory: Factory) -> None:
    buffer = timedelta(hours=factory.app.services.settings.request_expiry_buffer_hours)
    posted = await post_request(
        factory, await factory.interviewee(), scheduled_in=buffer + timedelta(minutes=1)
    )
    viewer = await factory.interviewer()
    assert await get(factory, posted["id"], viewer) == 200
    factory.clock.advance(minutes=1)
    assert await get(factory, posted["id"], viewer) == 404


async def test_other_interviewer_gets_404_once_cancelled(factory: Factory) -> None:
    owner = await factory.interviewee()
    posted = await post_request(factory, owner)
    r = await factory.client.post(f"{url(posted['id'])}/cancel", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert await get(factory, posted["id"], await factory.interviewer()) == 404


async def test_owner_sees_expired_status_before_the_sweeper(factory: Factory) -> None:
    owner = await factory.interviewee()
    buffer = timedelta(hours=factory.app.services.settings.request_expiry_buffer_hours)
    posted = await post_request(factory, owner, scheduled_in=buffer + timedelta(minutes=1))
    factory.clock.advance(minutes=1)
    response = await factory.client.get(url(posted["id"]), headers=owner.headers)
    assert response.json()["status"] == "EXPIRED"


async def test_unknown_request_is_404(factory: Factory) -> None:
    admin = await factory.admin()
    assert await get(factory, "00000000-0000-0000-0000-000000000000", admin) == 404
