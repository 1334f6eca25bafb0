"""POST /api/interview-sessions/{id}/questions/suggest: fresh matching questions
(docs/api.md §5)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import Factory
from tests.flow import accepted, completed
from tests.platform.apps import assert_problem
from tests.session_questions.support import add, bank_question, stored_rows, suggest


async def test_suggest_adds_matching_questions_up_to_count(factory: Factory) -> None:
    flow = await accepted(factory)
    matching = [await bank_question(factory) for _ in range(4)]
    await bank_question(factory, category="graphs")
    await bank_question(factory, difficulty="HARD")
    await bank_question(factory, type="BEHAVIORAL")
    response = await suggest(factory.client, flow.interviewer, flow.id, 3)
    assert response.status_code == 201, response.text
    items = response.json()["items"]
    # Oldest first, the bank's own order.
    assert [q["question_id"] for q in items] == [q["id"] for q in matching[:3]]
    assert [q["position"] for q in items] == [1, 2, 3]
    assert items[0]["hints"] == matching[0]["hints"]
    assert items[0]["solution"] == matching[0]["solution"]


async def test_suggest_returns_the_whole_list_including_earlier_additions(
    factory: Factory,
) -> None:
    flow = await accepted(factory)
    by_hand = await bank_question(factory, category="graphs")
    fresh = await bank_question(factory)
    assert (await add(factory.client, flow.interviewer, flow.id, by_hand["id"])).status_code == 201
    response = await suggest(factory.client, flow.interviewer, flow.id, 5)
    assert response.status_code == 201, response.text
    assert [(q["question_id"], q["position"]) for q in response.json()["items"]] == [
        (by_hand["id"], 1),
        (fresh["id"], 2),
    ]


async def test_suggest_skips_questions_already_in_this_session(factory: Factory) -> None:
    flow = await accepted(factory)
    first, second = await bank_question(factory), await bank_question(factory)
    assert (await add(factory.client, flow.interviewer, flow.id, first["id"])).status_code == 201
    response = await suggest(factory.client, flow.interviewer, flow.id, 2)
    assert response.status_code == 201, response.text
    assert [q["question_id"] for q in response.json()["items"]] == [first["id"], second["id"]]


async def test_suggest_excludes_questions_the_interviewee_had_in_another_session(
    factory: Factory,
) -> None:
    earlier = await accepted(factory)
    had = await bank_question(factory)
    fresh = await bank_question(factory)
    added = await add(factory.client, earlier.interviewer, earlier.id, had["id"])
    assert added.status_code == 201
    # Another interviewer, another session, the same interviewee.
    later = await accepted(factory, interviewee=earlier.interviewee, scheduled_in=timedelta(days=2))
    response = await suggest(factory.client, later.interviewer, later.id, 5)
    assert response.status_code == 201, response.text
    assert [q["question_id"] for q in response.json()["items"]] == [fresh["id"]]


async def test_suggest_counts_questions_of_a_cancelled_session_as_had(factory: Factory) -> None:
    earlier = await accepted(factory)
    had = await bank_question(factory)
    assert (
        await add(factory.client, earlier.interviewer, earlier.id, had["id"])
    ).status_code == 201
    cancel = await factory.client.post(
        f"/api/interview-sessions/{earlier.id}/cancel", headers=earlier.interviewee.headers
    )
    assert cancel.status_code == 200, cancel.text
    later = await accepted(factory, interviewee=earlier.interviewee, scheduled_in=timedelta(days=2))
    response = await suggest(factory.client, later.interviewer, later.id, 5)
    assert response.json()["items"] == []


async def test_suggest_still_offers_what_other_interviewees_had(factory: Factory) -> None:
    other = await accepted(factory)
    question = await bank_question(factory)
    assert (
        await add(factory.client, other.interviewer, other.id, question["id"])
    ).status_code == 201
    flow = await accepted(factory, interviewer=other.interviewer, scheduled_in=timedelta(days=3))
    response = await suggest(factory.client, flow.interviewer, flow.id, 5)
    assert [q["question_id"] for q in response.json()["items"]] == [question["id"]]


async def test_suggest_leaves_out_soft_deleted_questions(factory: Factory) -> None:
    flow = await accepted(factory)
    await bank_question(factory, deleted_at=factory.clock.now())
    alive = await bank_question(factory)
    response = await suggest(factory.client, flow.interviewer, flow.id, 5)
    assert [q["question_id"] for q in response.json()["items"]] == [alive["id"]]


async def test_suggest_adds_fewer_when_the_bank_runs_out(factory: Factory) -> None:
    flow = await accepted(factory)
    only = await bank_question(factory)
    response = await suggest(factory.client, flow.interviewer, flow.id, 10)
    assert response.status_code == 201, response.text
    assert [q["question_id"] for q in response.json()["items"]] == [only["id"]]
    again = await suggest(factory.client, flow.interviewer, flow.id, 10)
    assert again.status_code == 201, again.text
    assert again.json()["items"] == response.json()["items"]
    assert len(await stored_rows(factory, flow.id)) == 1


@pytest.mark.parametrize("count", [0, 11, -1, "three", None])
async def test_suggest_count_outside_1_to_10_is_422(factory: Factory, count: object) -> None:
    flow = await accepted(factory)
    response = await suggest(factory.client, flow.interviewer, flow.id, count)
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_suggest_refuses_unknown_fields(factory: Factory) -> None:
    flow = await accepted(factory)
    response = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/questions/suggest",
        json={"count": 2, "category": "graphs"},
        headers=flow.interviewer.headers,
    )
    assert_problem(response, 422, "VALIDATION_ERROR")


async def test_suggest_on_a_completed_session_is_409_invalid_session_state(
    factory: Factory,
) -> None:
    flow = await completed(factory)
    await bank_question(factory)
    response = await suggest(factory.client, flow.interviewer, flow.id, 3)
    assert_problem(response, 409, "INVALID_SESSION_STATE")
    assert await stored_rows(factory, flow.id) == []


async def test_suggest_by_the_interviewee_is_403_not_session_interviewer(
    factory: Factory,
) -> None:
    flow = await accepted(factory)
    await bank_question(factory)
    response = await suggest(factory.client, flow.interviewee, flow.id, 3)
    assert_problem(response, 403, "NOT_SESSION_INTERVIEWER")
