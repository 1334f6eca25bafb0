"""POST /api/interview-requests/{id}/cancel: the owner cancels an open request."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from peerview.models.enums import Role
from tests.factories import Factory
from tests.flow import accepted, post_request
from tests.lifecycle.support import request_row, sweep
from tests.platform.apps import assert_problem


def url(request_id: str) -> str:
    return f"/api/interview-requests/{request_id}/cancel"


async def test_owner_cancels_open_request_200_cancelled(factory: Factory) -> None:
    owner = await factory.interviewee()
    posted = await post_request(factory, owner)
    response = await factory.client.post(url(posted["id"]), headers=owner.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {**posted, "status": "CANCELLED"}
    assert (await request_row(factory.app, posted["id"]))["status"] == "CANCELLED"


async def test_cancel_of_cancelled_request_is_409_request_not_open(factory: Factory) -> None:
    owner = await factory.interviewee()
    posted = await post_request(factory, owner)
    await factory.client.post(url(posted["id"]), headers=owner.headers)
    assert_problem(
        await factory.client.post(url(posted["id"]), headers=owner.headers),
        409,
        "REQUEST_NOT_OPEN",
    )


async def test_cancel_of_accepted_request_is_409_request_not_open(factory: Factory) -> None:
    flow = await accepted(factory)
    response = await factory.client.post(
        url(flow.session["request_id"]), headers=flow.interviewee.headers
    )
    assert_problem(response, 409, "REQUEST_NOT_OPEN")
    assert (await request_row(factory.app, flow.session["request_id"]))["status"] == "ACCEPTED"


async def test_cancel_of_request_expired_by_time_is_409_request_not_open(
    factory: Factory,
) -> None:
    owner = await factory.interviewee()
    posted = await post_request(factory, owner)
    factory.clock.set(datetime.fromisoformat(posted["expires_at"]))
    assert_problem(
        await factory.client.post(url(posted["id"]), headers=owner.headers),
        409,
        "REQUEST_NOT_OPEN",
    )
    assert (await request_row(factory.app, posted["id"]))["status"] == "OPEN"


async def test_cancel_of_swept_request_is_409_request_not_open(factory: Factory) -> None:
    owner = await factory.interviewee()
    posted = await post_request(factory, owner)
    factory.clock.set(datetime.fromisoformat(posted["expires_at"]) + timedelta(seconds=1))
    await sweep(factory.app, factory.clock)
    assert_problem(
        await factory.client.post(url(posted["id"]), headers=owner.headers),
        409,
        "REQUEST_NOT_OPEN",
    )


@pytest.mark.parametrize("role", [Role.INTERVIEWEE, Role.INTERVIEWER, Role.ADMIN])
async def test_cancel_by_anyone_but_the_owner_is_404(factory: Factory, role: Role) -> None:
    posted = await post_request(factory, await factory.interviewee())
    user = await factory.user(role)
    assert_problem(
        await factory.client.post(url(posted["id"]), headers=user.headers),
        404,
        "REQUEST_NOT_FOUND",
    )
    assert (await request_row(factory.app, posted["id"]))["status"] == "OPEN"


async def test_cancel_by_its_interviewer_is_404(factory: Factory) -> None:
    flow = await accepted(factory)
    assert_problem(
        await factory.client.post(
            url(flow.session["request_id"]), headers=flow.interviewer.headers
        ),
        404,
        "REQUEST_NOT_FOUND",
    )


async def test_cancel_of_unknown_request_is_404(factory: Factory) -> None:
    owner = await factory.interviewee()
    assert_problem(
        await factory.client.post(
            url("00000000-0000-0000-0000-000000000000"), headers=owner.headers
        ),
        404,
        "REQUEST_NOT_FOUND",
    )
