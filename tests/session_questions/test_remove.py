"""DELETE /api/interview-sessions/{id}/questions/{question_id}: before the end only
(docs/api.md §5)."""

from __future__ import annotations

from tests.factories import Factory
from tests.flow import accepted, completed, live
from tests.platform.apps import assert_problem
from tests.session_questions.support import (
    add,
    bank_question,
    remove,
    session_questions,
    stored_rows,
)


async def test_remove_from_a_scheduled_session_is_204(factory: Factory) -> None:
    flow = await accepted(factory)
    kept, dropped = await bank_question(factory), await bank_question(factory)
    for question in (kept, dropped):
        assert (
            await add(factory.client, flow.interviewer, flow.id, question["id"])
        ).status_code == 201
    response = await remove(factory.client, flow.interviewer, flow.id, dropped["id"])
    assert response.status_code == 204, response.text
    assert response.content == b""
    listed = await session_questions(factory.client, flow.interviewer, flow.id)
    assert [q["question_id"] for q in listed] == [kept["id"]]


async def test_remove_from_a_live_session_is_204(factory: Factory) -> None:
    flow = await live(factory)
    question = await bank_question(factory)
    assert (await add(factory.client, flow.interviewer, flow.id, question["id"])).status_code == 201
    response = await remove(factory.client, flow.interviewer, flow.id, question["id"])
    assert response.status_code == 204, response.text
    assert await stored_rows(factory, flow.id) == []


async def test_remaining_questions_keep_their_positions(factory: Factory) -> None:
    flow = await accepted(factory)
    ids = [(await bank_question(factory))["id"] for _ in range(3)]
    for qid in ids:
        assert (await add(factory.client, flow.interviewer, flow.id, qid)).status_code == 201
    assert (await remove(factory.client, flow.interviewer, flow.id, ids[1])).status_code == 204
    listed = await session_questions(factory.client, flow.interviewer, flow.id)
    assert [(q["question_id"], q["position"]) for q in listed] == [(ids[0], 1), (ids[2], 3)]


async def test_a_question_added_after_a_removal_goes_last(factory: Factory) -> None:
    flow = await accepted(factory)
    ids = [(await bank_question(factory))["id"] for _ in range(3)]
    for qid in ids[:2]:
        assert (await add(factory.client, flow.interviewer, flow.id, qid)).status_code == 201
    assert (await remove(factory.client, flow.interviewer, flow.id, ids[0])).status_code == 204
    added = await add(factory.client, flow.interviewer, flow.id, ids[2])
    assert added.json()["position"] == 3


async def test_a_removed_question_can_be_added_again(factory: Factory) -> None:
    flow = await accepted(factory)
    question = await bank_question(factory)
    assert (await add(factory.client, flow.interviewer, flow.id, question["id"])).status_code == 201
    assert (
        await remove(factory.client, flow.interviewer, flow.id, question["id"])
    ).status_code == 204
    again = await add(factory.client, flow.interviewer, flow.id, question["id"])
    assert again.status_code == 201, again.text


async def test_remove_after_completion_is_409_invalid_session_state(factory: Factory) -> None:
    flow = await live(factory)
    question = await bank_question(factory)
    assert (await add(factory.client, flow.interviewer, flow.id, question["id"])).status_code == 201
    factory.clock.advance(minutes=30)
    end = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/end", headers=flow.interviewer.headers
    )
    assert end.status_code == 200, end.text
    response = await remove(factory.client, flow.interviewer, flow.id, question["id"])
    assert_problem(response, 409, "INVALID_SESSION_STATE")
    assert len(await stored_rows(factory, flow.id)) == 1


async def test_remove_from_a_cancelled_session_is_409_invalid_session_state(
    factory: Factory,
) -> None:
    # A cancelled session is over too: its list is history, like a completed one's.
    flow = await accepted(factory)
    question = await bank_question(factory)
    assert (await add(factory.client, flow.interviewer, flow.id, question["id"])).status_code == 201
    cancel = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewer.headers
    )
    assert cancel.status_code == 200, cancel.text
    response = await remove(factory.client, flow.interviewer, flow.id, question["id"])
    assert_problem(response, 409, "INVALID_SESSION_STATE")
    assert len(await stored_rows(factory, flow.id)) == 1


async def test_remove_of_a_question_not_in_the_session_is_404(factory: Factory) -> None:
    flow = await accepted(factory)
    elsewhere = await bank_question(factory)
    response = await remove(factory.client, flow.interviewer, flow.id, elsewhere["id"])
    assert_problem(response, 404, "QUESTION_NOT_FOUND")
    response = await remove(factory.client, flow.interviewer, flow.id, "no-such-question")
    assert_problem(response, 404, "QUESTION_NOT_FOUND")


async def test_remove_of_a_question_not_in_a_completed_session_is_404(factory: Factory) -> None:
    flow = await completed(factory)
    response = await remove(factory.client, flow.interviewer, flow.id, "no-such-question")
    assert_problem(response, 404, "QUESTION_NOT_FOUND")


async def test_remove_by_the_interviewee_is_403_not_session_interviewer(factory: Factory) -> None:
    flow = await accepted(factory)
    question = await bank_question(factory)
    assert (await add(factory.client, flow.interviewer, flow.id, question["id"])).status_code == 201
    response = await remove(factory.client, flow.interviewee, flow.id, question["id"])
    assert_problem(response, 403, "NOT_SESSION_INTERVIEWER")
    assert len(await stored_rows(factory, flow.id)) == 1
