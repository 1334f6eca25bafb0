"""POST /api/interview-requests: who may post, what is stored, and the limits (docs/api.md §4)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from peerview.models.enums import Role
from tests import factories
from tests.factories import Factory
from tests.flow import post_request
from tests.lifecycle.support import request_row
from tests.platform.apps import assert_problem

URL = "/api/interview-requests"


def body(factory: Factory, *, scheduled_in: timedelta = timedelta(days=1), **fields: Any) -> Any:
    return {
        "category": "arrays",
        "difficulty": "MEDIUM",
        "scheduled_at": (factory.clock.now() + scheduled_in).isoformat(),
        **fields,
    }


async def post(factory: Factory, user: factories.TestUser, payload: Any) -> Any:
    return await factory.client.post(URL, json=payload, headers=user.headers)


async def test_create_returns_201_open_request(factory: Factory) -> None:
    user = await factory.interviewee()
    response = await post(factory, user, body(factory, note="two pointers please"))
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "OPEN"
    assert created["interviewee"] == {"id": user.id, "name": user.name}
    assert created["session_id"] is None
    assert created["note"] == "two pointers please"
    assert datetime.fromisoformat(created["created_at"]) == factory.clock.now()
    fetched = await factory.client.get(f"{URL}/{created['id']}", headers=user.headers)
    assert fetched.json() == created


async def test_create_outputs_times_with_an_offset(factory: Factory) -> None:
    user = await factory.interviewee()
    created = (await post(factory, user, body(factory))).json()
    for name in ("scheduled_at", "expires_at", "created_at"):
        assert datetime.fromisoformat(created[name]).utcoffset() == timedelta(0), name


async def test_category_is_stored_lower_case(factory: Factory) -> None:
    user = await factory.interviewee()
    created = (await post(factory, user, body(factory, category="System-Design"))).json()
    assert created["category"] == "system-design"
    assert (await request_row(factory.app, created["id"]))["category"] == "system-design"


@pytest.mark.parametrize("category", ["", "x" * 65])
async def test_category_outside_1_to_64_chars_is_422(factory: Factory, category: str) -> None:
    user = await factory.interviewee()
    response = await post(factory, user, body(factory, category=category))
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == ["category"]


async def test_type_defaults_to_coding(factory: Factory) -> None:
    user = await factory.interviewee()
    created = (await post(factory, user, body(factory))).json()
    assert created["type"] == "CODING"


@pytest.mark.parametrize("kind", ["SYSTEM_DESIGN", "BEHAVIORAL", "CONCEPTUAL"])
async def test_type_is_kept_when_given(factory: Factory, kind: str) -> None:
    user = await factory.interviewee()
    created = (await post(factory, user, body(factory, type=kind))).json()
    assert created["type"] == kind


@pytest.mark.parametrize(("field", "value"), [("difficulty", "EXTREME"), ("type", "TRIVIA")])
async def test_unknown_difficulty_or_type_is_422(factory: Factory, field: str, value: str) -> None:
    user = await factory.interviewee()
    response = await post(factory, user, body(factory, **{field: value}))
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_duration_defaults_to_60(factory: Factory) -> None:
    user = await factory.interviewee()
    created = (await post(factory, user, body(factory))).json()
    assert created["duration_minutes"] == 60


@pytest.mark.parametrize("minutes", [15, 180])
async def test_duration_bounds_15_and_180_are_allowed(factory: Factory, minutes: int) -> None:
    user = await factory.interviewee()
    response = await post(factory, user, body(factory, duration_minutes=minutes))
    assert response.status_code == 201, response.text
    assert response.json()["duration_minutes"] == minutes


@pytest.mark.parametrize("minutes", [14, 181])
async def test_duration_outside_15_to_180_is_422(factory: Factory, minutes: int) -> None:
    user = await factory.interviewee()
    response = await post(factory, user, body(factory, duration_minutes=minutes))
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == ["duration_minutes"]


async def test_note_of_1000_chars_is_allowed(factory: Factory) -> None:
    user = await factory.interviewee()
    response = await post(factory, user, body(factory, note="n" * 1000))
    assert response.status_code == 201, response.text
    assert response.json()["note"] == "n" * 1000


async def test_note_over_1000_chars_is_422(factory: Factory) -> None:
    user = await factory.interviewee()
    response = await post(factory, user, body(factory, note="n" * 1001))
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == ["note"]


async def test_scheduled_at_without_offset_is_422(factory: Factory) -> None:
    user = await factory.interviewee()
    naive = (factory.clock.now() + timedelta(days=1)).replace(tzinfo=None).isoformat()
    response = await post(factory, user, {**body(factory), "scheduled_at": naive})
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == ["scheduled_at"]


async def test_unknown_field_is_422(factory: Factory) -> None:
    user = await factory.interviewee()
    response = await post(factory, user, body(factory, status="ACCEPTED"))
    problem = assert_problem(response, 422, "VALIDATION_ERROR")
    assert [e["field"] for e in problem["errors"]] == ["status"]


async def test_expires_at_is_scheduled_at_minus_the_expiry_buffer(factory: Factory) -> None:
    user = await factory.interviewee()
    scheduled = factory.clock.now() + timedelta(days=2, hours=3)
    created = (await post(factory, user, body(factory, scheduled_at=scheduled.isoformat()))).json()
    buffer = timedelta(hours=factory.app.services.settings.request_expiry_buffer_hours)
    assert datetime.fromisoformat(created["scheduled_at"]) == scheduled
    assert datetime.fromisoformat(created["expires_at"]) == scheduled - buffer
    assert (await request_row(factory.app, created["id"]))["expires_at"] == scheduled - buffer


async def test_scheduled_at_in_another_offset_is_the_same_instant(factory: Factory) -> None:
    user = await factory.interviewee()
    scheduled = factory.clock.now() + timedelta(days=1)
    east = scheduled.astimezone(datetime.fromisoformat("2030-01-01T00:00:00+05:30").tzinfo)
    created = (await post(factory, user, body(factory, scheduled_at=east.isoformat()))).json()
    assert datetime.fromisoformat(created["scheduled_at"]) == scheduled


async def test_create_answers_in_utc_as_every_later_read_does(factory: Factory) -> None:
    user = await factory.interviewee()
    scheduled = factory.clock.now() + timedelta(days=1)
    east = scheduled.astimezone(datetime.fromisoformat("2030-01-01T00:00:00+05:30").tzinfo)
    created = (await post(factory, user, body(factory, scheduled_at=east.isoformat()))).json()
    for name in ("scheduled_at", "expires_at"):
        assert datetime.fromisoformat(created[name]).utcoffset() == timedelta(0), created[name]
    fetched = await factory.client.get(f"{URL}/{created['id']}", headers=user.headers)
    assert fetched.json() == created


async def test_expiry_not_in_the_future_is_422_schedule_too_soon(factory: Factory) -> None:
    user = await factory.interviewee()
    buffer = timedelta(hours=factory.app.services.settings.request_expiry_buffer_hours)
    # expires_at == now: not in the future.
    response = await post(factory, user, body(factory, scheduled_in=buffer))
    assert_problem(response, 422, "SCHEDULE_TOO_SOON")
    response = await post(factory, user, body(factory, scheduled_in=-timedelta(hours=1)))
    assert_problem(response, 422, "SCHEDULE_TOO_SOON")


async def test_expiry_one_second_ahead_is_accepted(factory: Factory) -> None:
    user = await factory.interviewee()
    buffer = timedelta(hours=factory.app.services.settings.request_expiry_buffer_hours)
    response = await post(factory, user, body(factory, scheduled_in=buffer + timedelta(seconds=1)))
    assert response.status_code == 201, response.text


async def test_more_than_60_days_ahead_is_422(factory: Factory) -> None:
    user = await factory.interviewee()
    response = await post(factory, user, body(factory, scheduled_in=timedelta(days=60, seconds=1)))
    assert_problem(response, 422, "SCHEDULE_TOO_FAR")


async def test_exactly_60_days_ahead_is_allowed(factory: Factory) -> None:
    user = await factory.interviewee()
    response = await post(factory, user, body(factory, scheduled_in=timedelta(days=60)))
    assert response.status_code == 201, response.text


async def test_sixth_open_request_is_409_too_many_open_requests(factory: Factory) -> None:
    user = await factory.interviewee()
    for day in range(1, 6):
        await post_request(factory, user, scheduled_in=timedelta(days=day))
    response = await post(factory, user, body(factory, scheduled_in=timedelta(days=7)))
    assert_problem(response, 409, "TOO_MANY_OPEN_REQUESTS")


async def test_open_request_limit_is_per_interviewee(factory: Factory) -> None:
    user, other = await factory.interviewee(), await factory.interviewee()
    for day in range(1, 6):
        await post_request(factory, user, scheduled_in=timedelta(days=day))
    response = await post(factory, other, body(factory))
    assert response.status_code == 201, response.text


async def test_cancelled_requests_do_not_count_towards_the_limit(factory: Factory) -> None:
    user = await factory.interviewee()
    ids = [
        (await post_request(factory, user, scheduled_in=timedelta(days=day)))["id"]
        for day in range(1, 6)
    ]
    cancelled = await factory.client.post(f"{URL}/{ids[0]}/cancel", headers=user.headers)
    assert cancelled.status_code == 200, cancelled.text
    response = await post(factory, user, body(factory, scheduled_in=timedelta(days=7)))
    assert response.status_code == 201, response.text


async def test_accepted_requests_do_not_count_towards_the_limit(factory: Factory) -> None:
    user, interviewer = await factory.interviewee(), await factory.interviewer()
    ids = [
        (await post_request(factory, user, scheduled_in=timedelta(days=day)))["id"]
        for day in range(1, 6)
    ]
    accepted = await factory.client.post(f"{URL}/{ids[0]}/accept", headers=interviewer.headers)
    assert accepted.status_code == 201, accepted.text
    response = await post(factory, user, body(factory, scheduled_in=timedelta(days=7)))
    assert response.status_code == 201, response.text


async def test_expired_requests_do_not_count_even_before_the_sweeper(factory: Factory) -> None:
    user = await factory.interviewee()
    buffer = timedelta(hours=factory.app.services.settings.request_expiry_buffer_hours)
    await post_request(factory, user, scheduled_in=buffer + timedelta(hours=1))
    for day in range(1, 5):
        await post_request(factory, user, scheduled_in=timedelta(days=day))
    assert_problem(await post(factory, user, body(factory)), 409, "TOO_MANY_OPEN_REQUESTS")
    factory.clock.advance(hours=1)  # the first one expires; nobody has swept it
    response = await post(factory, user, body(factory, scheduled_in=timedelta(days=7)))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize("role", [Role.INTERVIEWER, Role.ADMIN])
async def test_interviewers_and_admins_cannot_post_requests(factory: Factory, role: Role) -> None:
    user = await factory.user(role)
    assert_problem(await post(factory, user, body(factory)), 403, "FORBIDDEN")


async def test_wrong_role_is_403_before_the_body_is_validated(factory: Factory) -> None:
    user = await factory.interviewer()
    response = await post(factory, user, {"category": ""})
    assert_problem(response, 403, "FORBIDDEN")


async def test_anonymous_post_is_401(factory: Factory) -> None:
    response = await factory.client.post(URL, json=body(factory))
    assert_problem(response, 401, "NOT_AUTHENTICATED")
