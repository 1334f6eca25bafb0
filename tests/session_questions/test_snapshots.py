"""Session questions are snapshots, and the interviewee sees title and prompt only
(docs/api.md §5)."""

from __future__ import annotations

from typing import Any

from tests.factories import Factory
from tests.flow import accepted, live
from tests.session_questions.support import add, bank_question, session_questions

SNAPSHOT_FIELDS = {"question_id", "position", "title", "prompt", "hints", "solution", "added_at"}
BRIEF_FIELDS = {"question_id", "position", "title", "prompt", "added_at"}


def _replacement(**overrides: Any) -> dict[str, Any]:
    return {
        "title": "Rewritten title",
        "prompt": "A rewritten prompt.",
        "category": "arrays",
        "difficulty": "MEDIUM",
        "type": "CODING",
        "tags": [],
        "hints": ["A new hint"],
        "solution": "A new solution.",
        **overrides,
    }


async def test_snapshot_is_unchanged_by_a_later_edit_of_the_bank_question(
    factory: Factory,
) -> None:
    flow = await accepted(factory)
    admin = await factory.admin()
    question = await bank_question(factory)
    added = (await add(factory.client, flow.interviewer, flow.id, question["id"])).json()
    edit = await factory.client.put(
        f"/api/questions/{question['id']}", json=_replacement(), headers=admin.headers
    )
    assert edit.status_code == 200, edit.text
    assert edit.json()["title"] == "Rewritten title"
    assert await session_questions(factory.client, flow.interviewer, flow.id) == [added]
    assert added["title"] == question["title"]
    assert added["hints"] == question["hints"]


async def test_snapshot_is_unchanged_by_a_soft_delete_of_the_bank_question(
    factory: Factory,
) -> None:
    flow = await accepted(factory)
    admin = await factory.admin()
    question = await bank_question(factory)
    added = (await add(factory.client, flow.interviewer, flow.id, question["id"])).json()
    deleted = await factory.client.delete(f"/api/questions/{question['id']}", headers=admin.headers)
    assert deleted.status_code == 204, deleted.text
    assert await session_questions(factory.client, flow.interviewer, flow.id) == [added]
    assert await session_questions(factory.client, admin, flow.id) == [added]


async def test_interviewee_sees_title_and_prompt_only_in_session_reads(factory: Factory) -> None:
    flow = await live(factory)
    question = await bank_question(factory)
    added = (await add(factory.client, flow.interviewer, flow.id, question["id"])).json()
    client = factory.client
    headers = flow.interviewee.headers

    single = await client.get(f"/api/interview-sessions/{flow.id}", headers=headers)
    listed = await client.get("/api/interview-sessions", headers=headers)
    joined = await client.post(f"/api/interview-sessions/{flow.id}/join", headers=headers)
    views = [
        single.json()["questions"],
        next(s for s in listed.json()["items"] if s["id"] == flow.id)["questions"],
        joined.json()["session"]["questions"],
    ]
    for questions in views:
        assert len(questions) == 1
        assert set(questions[0]) == BRIEF_FIELDS
        assert questions[0] == {k: added[k] for k in BRIEF_FIELDS}
        assert "Hint" not in str(questions)
        assert "Solution" not in str(questions)


async def test_interviewer_and_admins_see_hints_and_solution(factory: Factory) -> None:
    flow = await accepted(factory)
    admin = await factory.admin()
    question = await bank_question(factory)
    added = (await add(factory.client, flow.interviewer, flow.id, question["id"])).json()
    for viewer in (flow.interviewer, admin):
        questions = await session_questions(factory.client, viewer, flow.id)
        assert set(questions[0]) == SNAPSHOT_FIELDS
        assert questions == [added]
