"""GET /api/notifications, POST /api/notifications/{id}/read and /read-all."""

from __future__ import annotations

from datetime import timedelta

import httpx
from fastapi import FastAPI

from tests.factories import Factory, TestUser
from tests.flow import accepted
from tests.notifications.support import mine
from tests.platform.apps import assert_problem

FIELDS = {"id", "kind", "session_id", "request_id", "title", "body", "created_at", "read_at"}


async def three_notifications(factory: Factory, interviewee: TestUser) -> None:
    """Three REQUEST_ACCEPTED notifications for `interviewee`, a minute apart."""
    interviewer = await factory.interviewer()
    for n in range(3):
        await accepted(
            factory,
            interviewer=interviewer,
            interviewee=interviewee,
            scheduled_in=timedelta(days=1 + n),
        )
        factory.clock.advance(minutes=1)


async def test_list_is_mine_only_newest_first(factory: Factory, client: httpx.AsyncClient) -> None:
    interviewee = await factory.interviewee()
    await three_notifications(factory, interviewee)
    other = await accepted(factory)
    page = await mine(client, interviewee)
    assert len(page["items"]) == 3
    assert page["next_cursor"] is None
    assert set(page["items"][0]) == FIELDS
    created = [item["created_at"] for item in page["items"]]
    assert created == sorted(created, reverse=True)
    assert all(item["kind"] == "REQUEST_ACCEPTED" for item in page["items"])
    assert other.id not in {item["session_id"] for item in page["items"]}


async def test_list_paginates_with_a_cursor(factory: Factory, client: httpx.AsyncClient) -> None:
    interviewee = await factory.interviewee()
    await three_notifications(factory, interviewee)
    first = await mine(client, interviewee, limit=2)
    assert len(first["items"]) == 2
    second = await mine(client, interviewee, limit=2, cursor=first["next_cursor"])
    assert len(second["items"]) == 1
    assert second["next_cursor"] is None
    everything = await mine(client, interviewee)
    assert [i["id"] for i in first["items"] + second["items"]] == [
        i["id"] for i in everything["items"]
    ]


async def test_list_limit_over_100_is_422(factory: Factory, client: httpx.AsyncClient) -> None:
    user = await factory.interviewee()
    response = await client.get("/api/notifications?limit=101", headers=user.headers)
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_list_with_a_forged_cursor_is_422(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    user = await factory.interviewee()
    response = await client.get("/api/notifications?cursor=forged", headers=user.headers)
    assert_problem(response, 422, "INVALID_CURSOR")


async def test_list_without_a_token_is_401(client: httpx.AsyncClient) -> None:
    assert_problem(await client.get("/api/notifications"), 401)


async def test_unread_filter_leaves_out_read_ones(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    interviewee = await factory.interviewee()
    await three_notifications(factory, interviewee)
    newest = (await mine(client, interviewee))["items"][0]
    response = await client.post(
        f"/api/notifications/{newest['id']}/read", headers=interviewee.headers
    )
    assert response.status_code == 200
    unread = await mine(client, interviewee, unread="true")
    assert len(unread["items"]) == 2
    assert newest["id"] not in {i["id"] for i in unread["items"]}


async def test_read_returns_the_notification_with_read_at(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    item = (await mine(client, flow.interviewee))["items"][0]
    assert item["read_at"] is None
    response = await client.post(
        f"/api/notifications/{item['id']}/read", headers=flow.interviewee.headers
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == item["id"]
    assert body["read_at"] is not None


async def test_reading_again_keeps_the_first_read_at(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    item = (await mine(client, flow.interviewee))["items"][0]
    url = f"/api/notifications/{item['id']}/read"
    first = (await client.post(url, headers=flow.interviewee.headers)).json()
    factory.clock.advance(minutes=5)
    second = (await client.post(url, headers=flow.interviewee.headers)).json()
    assert second["read_at"] == first["read_at"]


async def test_reading_someone_elses_notification_is_404(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)
    item = (await mine(client, flow.interviewee))["items"][0]
    for intruder in (flow.interviewer, await factory.admin()):
        response = await client.post(
            f"/api/notifications/{item['id']}/read", headers=intruder.headers
        )
        assert_problem(response, 404, "NOTIFICATION_NOT_FOUND")
    assert (await mine(client, flow.interviewee))["items"][0]["read_at"] is None


async def test_reading_a_missing_notification_is_404(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    user = await factory.interviewee()
    response = await client.post("/api/notifications/nope/read", headers=user.headers)
    assert_problem(response, 404, "NOTIFICATION_NOT_FOUND")


async def test_read_all_marks_mine_and_counts_them(
    factory: Factory, client: httpx.AsyncClient, app: FastAPI
) -> None:
    interviewee = await factory.interviewee()
    await three_notifications(factory, interviewee)
    bystander = await accepted(factory)
    response = await client.post("/api/notifications/read-all", headers=interviewee.headers)
    assert response.status_code == 200
    assert response.json() == {"updated": 3}
    assert (await mine(client, interviewee, unread="true"))["items"] == []
    again = await client.post("/api/notifications/read-all", headers=interviewee.headers)
    assert again.json() == {"updated": 0}
    assert len((await mine(client, bystander.interviewee, unread="true"))["items"]) == 1
