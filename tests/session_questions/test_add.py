"""POST /api/interview-sessions/{id}/questions: snapshots added by the interviewer
(docs/api.md §5)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from peerview.config import Settings
from tests.factories import Factory
from tests.flow import accepted, completed, live
from tests.platform.apps import assert_problem
from tests.session_questions.support import add, bank_question, session_questions, stored_rows


async def test_interviewer_adds_a_bank_question_as_a_snapshot(factory: Factory) -> None:
    flow = await accepted(factory)
    question = await bank_question(factory)
    response = await add(factory.client, flow.interviewer, flow.id, question["id"])
    assert response.status_code == 201, response.text
    assert response.json() == {
        "question_id": question["id"],
        "position": 1,
        "title": question["title"],
        "prompt": question["prompt"],
        "hints": question["hints"],
        "solution": question["solution"],
        "added_at": response.json()["added_at"],
    }
    assert datetime.fromisoformat(response.json()["added_at"]) == factory.clock.now()
    assert await session_questions(factory.client, flow.interviewer, flow.id) == [response.json()]


async def test_positions_follow_insertion_order(factory: Factory) -> None:
    flow = await accepted(factory)
    ids = [(await bank_question(factory))["id"] for _ in range(3)]
    for question_id in reversed(ids):
        assert (
            await add(factory.client, flow.interviewer, flow.id, question_id)
        ).status_code == 201
    listed = await session_questions(factory.client, flow.interviewer, flow.id)
    assert [(q["question_id"], q["position"]) for q in listed] == [
        (ids[2], 1),
        (ids[1], 2),
        (ids[0], 3),
    ]


async def test_questions_can_be_added_to_a_live_session(factory: Factory) -> None:
    flow = await live(factory)
    question = await bank_question(factory)
    response = await add(factory.client, flow.interviewer, flow.id, question["id"])
    assert response.status_code == 201, response.text


async def test_a_question_of_any_kind_may_be_added_by_hand(factory: Factory) -> None:
    # Only suggestions follow the session's kind; the interviewer may pick anything.
    flow = await accepted(factory)
    question = await bank_question(factory, category="graphs", difficulty="HARD", type="BEHAVIORAL")
    response = await add(factory.client, flow.interviewer, flow.id, question["id"])
    assert response.status_code == 201, response.text


async def test_unknown_question_is_404_question_not_found(factory: Factory) -> None:
    flow = await accepted(factory)
    response = await add(factory.client, flow.interviewer, flow.id, "no-such-question")
    assert_problem(response, 404, "QUESTION_NOT_FOUND")
    assert await stored_rows(factory, flow.id) == []


async def test_soft_deleted_question_is_404_question_not_found(factory: Factory) -> None:
    flow = await accepted(factory)
    question = await bank_question(factory, deleted_at=factory.clock.now() - timedelta(hours=1))
    response = await add(factory.client, flow.interviewer, flow.id, question["id"])
    assert_problem(response, 404, "QUESTION_NOT_FOUND")


async def test_adding_a_question_twice_is_409_question_already_added(factory: Factory) -> None:
    flow = await accepted(factory)
    question = await bank_question(factory)
    assert (await add(factory.client, flow.interviewer, flow.id, question["id"])).status_code == 201
    response = await add(factory.client, flow.interviewer, flow.id, question["id"])
    assert_problem(response, 409, "QUESTION_ALREADY_ADDED")
    assert len(await stored_rows(factory, flow.id)) == 1


async def test_concurrent_adds_of_one_question_store_it_once(factory: Factory) -> None:
    flow = await accepted(factory)
    question = await bank_question(factory)
    responses = await asyncio.gather(
        *(add(factory.client, flow.interviewer, flow.id, question["id"]) for _ in range(8))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * 7, [r.text for r in responses]
    for r in responses:
        if r.status_code == 409:
            assert r.json()["code"] == "QUESTION_ALREADY_ADDED"
    assert len(await stored_rows(factory, flow.id)) == 1


async def test_concurrent_adds_of_different_questions_get_distinct_positions(
    factory: Factory,
) -> None:
    flow = await accepted(factory)
    ids = [(await bank_question(factory))["id"] for _ in range(6)]
    responses = await asyncio.gather(
        *(add(factory.client, flow.interviewer, flow.id, qid) for qid in ids)
    )
    assert [r.status_code for r in responses] == [201] * 6
    positions = sorted(row["position"] for row in await stored_rows(factory, flow.id))
    assert positions == [1, 2, 3, 4, 5, 6]


async def test_adding_to_a_completed_session_is_409_invalid_session_state(
    factory: Factory,
) -> None:
    flow = await completed(factory)
    question = await bank_question(factory)
    response = await add(factory.client, flow.interviewer, flow.id, question["id"])
    assert_problem(response, 409, "INVALID_SESSION_STATE")
    assert await stored_rows(factory, flow.id) == []


async def test_adding_to_a_cancelled_session_is_409_invalid_session_state(
    factory: Factory,
) -> None:
    flow = await accepted(factory)
    cancel = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/cancel", headers=flow.interviewee.headers
    )
    assert cancel.status_code == 200, cancel.text
    question = await bank_question(factory)
    response = await add(factory.client, flow.interviewer, flow.id, question["id"])
    assert_problem(response, 409, "INVALID_SESSION_STATE")


async def test_adding_to_a_timed_out_session_is_409_without_the_sweeper(
    factory: Factory,
) -> None:
    flow = await live(factory)
    factory.clock.set(datetime.fromisoformat(flow.session["hard_end_at"]))
    question = await bank_question(factory)
    response = await add(factory.client, flow.interviewer, flow.id, question["id"])
    assert_problem(response, 409, "INVALID_SESSION_STATE")


async def test_adding_to_a_no_show_session_is_409_without_the_sweeper(
    factory: Factory, settings: Settings
) -> None:
    flow = await accepted(factory)
    factory.clock.set(flow.scheduled_at + timedelta(minutes=settings.no_show_minutes))
    question = await bank_question(factory)
    response = await add(factory.client, flow.interviewer, flow.id, question["id"])
    assert_problem(response, 409, "INVALID_SESSION_STATE")


async def test_interviewee_gets_403_not_session_interviewer(factory: Factory) -> None:
    flow = await accepted(factory)
    question = await bank_question(factory)
    response = await add(factory.client, flow.interviewee, flow.id, question["id"])
    assert_problem(response, 403, "NOT_SESSION_INTERVIEWER")
    assert await stored_rows(factory, flow.id) == []


async def test_unknown_session_is_404_session_not_found(factory: Factory) -> None:
    interviewer = await factory.interviewer()
    question = await bank_question(factory)
    response = await add(factory.client, interviewer, "no-such-session", question["id"])
    assert_problem(response, 404, "SESSION_NOT_FOUND")


async def test_unauthenticated_is_401_before_input_is_checked(factory: Factory) -> None:
    flow = await accepted(factory)
    response = await factory.client.post(
        f"/api/interview-sessions/{flow.id}/questions", json={"unexpected": True}
    )
    assert_problem(response, 401)


async def test_invalid_body_is_422_before_visibility(factory: Factory) -> None:
    flow = await accepted(factory)
    outsider = await factory.interviewer()
    for body in ({}, {"question_id": ""}, {"question_id": "x", "position": 3}):
        response = await factory.client.post(
            f"/api/interview-sessions/{flow.id}/questions", json=body, headers=outsider.headers
        )
        assert_problem(response, 422, "VALIDATION_ERROR")


async def test_interviewee_gets_403_before_state_is_checked(factory: Factory) -> None:
    flow = await completed(factory)
    question = await bank_question(factory)
    response = await add(factory.client, flow.interviewee, flow.id, question["id"])
    assert_problem(response, 403, "NOT_SESSION_INTERVIEWER")


async def test_unknown_question_is_404_before_state_is_checked(factory: Factory) -> None:
    flow = await completed(factory)
    response = await add(factory.client, flow.interviewer, flow.id, "no-such-question")
    assert_problem(response, 404, "QUESTION_NOT_FOUND")
