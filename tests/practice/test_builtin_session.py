"""A practice session with the built-in interviewer, no model configured (docs/api.md §13)."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from peerview.models.enums import QuestionType
from peerview.practice import builtin
from tests.codepad.support import Pad
from tests.factories import Factory
from tests.lifecycle.support import sweep
from tests.practice.support import (
    interviewer_of,
    joined_peer,
    practice_of,
    practice_question,
    reply_to,
    say,
    started,
    transcript,
)


async def test_a_practice_session_is_live_at_once_with_the_question_revealed(
    factory: Factory,
) -> None:
    question = await practice_question(factory)
    user = await factory.interviewee()
    body = await started(factory, user, duration_minutes=30)
    session = body["session"]
    now = factory.clock.now()
    assert session["kind"] == "PRACTICE"
    assert session["status"] == "LIVE"
    assert session["request_id"] is None
    assert session["interviewer"] is None
    assert session["interviewee"]["id"] == user.id
    assert session["started_at"] == session["scheduled_at"]
    assert session["planned_end_at"] is not None
    # The interviewee sees the question's title and prompt, never its hints or solution.
    [shown] = session["questions"]
    assert shown["question_id"] == question["id"]
    assert "hints" not in shown
    assert "solution" not in shown
    assert body["engine"] == "BUILTIN"
    assert body["model"] is None
    assert body["hints_total"] == 2
    assert body["hints_given"] == 0
    assert body["feedback"] is None
    intro, reveal = await transcript(factory, user, session["id"])
    assert intro["kind"] == "intro"
    assert "built-in interviewer" in intro["text"]
    assert reveal["kind"] == "question"
    assert question["title"] in reveal["text"]
    assert question["prompt"] in reveal["text"]
    assert question["solution"] not in reveal["text"]
    assert [intro["seq"], reveal["seq"]] == [1, 2]
    assert intro["created_at"].startswith(now.isoformat()[:19])


async def test_the_whole_session_with_the_built_in_interviewer(
    live_url: str, factory: Factory, app: FastAPI, client: httpx.AsyncClient
) -> None:
    question = await practice_question(factory, hints=["Think recursively.", "Mind the leaves."])
    user = await factory.interviewee()
    body = await started(factory, user, duration_minutes=30)
    session_id = body["session"]["id"]
    peer = await joined_peer(live_url, user, session_id)
    try:
        factory.clock.advance(minutes=2)
        follow = await reply_to(peer, app, session_id, "I would walk the tree depth first.")
        assert follow["role"] == "interviewer"
        assert follow["source"] == "BUILTIN"
        assert builtin.FOLLOW_UPS[QuestionType.CODING][0] in follow["text"]
        # Hints, in order, on request: the button, then words.
        first = await reply_to(peer, app, session_id, "Hint please", hint=True)
        assert first["kind"] == "hint"
        assert "Think recursively." in first["text"]
        second = await reply_to(peer, app, session_id, "can I get a hint?")
        assert second["kind"] == "hint"
        assert "Mind the leaves." in second["text"]
        third = await reply_to(peer, app, session_id, "another hint?")
        assert third["text"] == builtin.no_more_hints(total=2)
        # Code in the pad counts toward the measured feedback.
        pad = Pad(peer, session_id)
        await pad.sync()
        assert await pad.edit(0, "def depth(node):\n    return 0\n") == {"ok": True}
        # Five minutes before the planned end, the interviewer warns (the next tick).
        factory.clock.advance(minutes=24)
        await interviewer_of(app).tick()
        await peer.barrier()
        warning = peer.received["practice_message"][-1]["message"]
        assert warning["kind"] == "warning"
        # The interviewee ends it: the interviewer closes and writes measured feedback.
        ended = await client.post(f"/api/interview-sessions/{session_id}/end", headers=user.headers)
        assert ended.status_code == 200, ended.text
        assert ended.json()["end_reason"] == "ENDED_BY_INTERVIEWEE"
        await interviewer_of(app).idle()
        [pushed] = await peer.wait_for("practice_feedback")
    finally:
        await peer.close()
    practice = await practice_of(factory, user, session_id)
    feedback = practice["feedback"]
    assert pushed == {"session_id": session_id, "feedback": feedback}
    assert feedback["source"] == "BUILTIN"
    assert feedback["basis"].startswith("Measured by the built-in interviewer")
    assert set(feedback["ratings"]) == {"communication", "problem_solving", "technical", "overall"}
    assert practice["hints_given"] == 2
    messages = await transcript(factory, user, session_id)
    assert messages[-1]["kind"] == "closing"
    by_seq = {m["seq"]: m["text"] for m in messages}
    # Every comment points at what was said or written, quoting it exactly.
    lines = ["def depth(node):", "    return 0", ""]
    pointed = 0
    for comment in feedback["comments"]:
        if comment["message_seq"] is not None:
            pointed += 1
            if comment["excerpt"]:
                assert comment["excerpt"] in by_seq[comment["message_seq"]]
        if comment["code_line"] is not None:
            pointed += 1
            assert comment["excerpt"] in lines[comment["code_line"] - 1]
    assert pointed >= 2
    assert question["solution"] not in str(messages)


async def test_time_ends_a_practice_session_and_the_tick_writes_its_feedback(
    factory: Factory, app: FastAPI
) -> None:
    await practice_question(factory)
    user = await factory.interviewee()
    body = await started(factory, user, duration_minutes=15)
    session_id = body["session"]["id"]
    factory.clock.advance(minutes=15 + 31)  # past the hard end: COMPLETED by read-time truth
    practice = await practice_of(factory, user, session_id)
    assert practice["session"]["status"] == "COMPLETED"
    assert practice["session"]["end_reason"] == "AUTO_TIMEOUT"
    assert practice["feedback"] is None
    await interviewer_of(app).tick()
    practice = await practice_of(factory, user, session_id)
    assert practice["feedback"]["source"] == "BUILTIN"
    messages = await transcript(factory, user, session_id)
    assert messages[-1]["kind"] == "closing"
    assert messages[-1]["text"] == builtin.closing(ended_by_time=True)
    # A second tick, or the sweeper's writing the end down, changes nothing more.
    await interviewer_of(app).tick()
    await sweep(app, factory.clock)
    await interviewer_of(app).idle()
    assert await transcript(factory, user, session_id) == messages


async def test_the_sweeper_writing_down_the_hard_end_brings_the_feedback(
    factory: Factory, app: FastAPI
) -> None:
    await practice_question(factory)
    user = await factory.interviewee()
    session_id = (await started(factory, user, duration_minutes=15))["session"]["id"]
    factory.clock.advance(minutes=50)
    result = await sweep(app, factory.clock)
    assert [t.id for t in result.auto_timed_out] == [session_id]
    await interviewer_of(app).idle()
    practice = await practice_of(factory, user, session_id)
    assert practice["feedback"] is not None


async def test_a_practice_session_is_extended_by_its_interviewee(factory: Factory) -> None:
    await practice_question(factory)
    user = await factory.interviewee()
    body = await started(factory, user, duration_minutes=30)
    session = body["session"]
    response = await factory.client.post(
        f"/api/interview-sessions/{session['id']}/extend",
        json={"minutes": 10},
        headers=user.headers,
    )
    assert response.status_code == 200, response.text
    assert response.json()["extended_minutes"] == 10


async def test_a_message_after_the_end_is_refused(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    await practice_question(factory)
    user = await factory.interviewee()
    session_id = (await started(factory, user))["session"]["id"]
    peer = await joined_peer(live_url, user, session_id)
    try:
        ended = await client.post(f"/api/interview-sessions/{session_id}/end", headers=user.headers)
        assert ended.status_code == 200
        ack = await say(peer, session_id, "hello?")
        assert ack == {"ok": False, "code": "INVALID_SESSION_STATE"}
        assert await say(peer, session_id, "") == {"ok": False, "code": "VALIDATION_ERROR"}
        assert await say(peer, "x" * 65, "hi") == {"ok": False, "code": "VALIDATION_ERROR"}
    finally:
        await peer.close()


async def test_a_message_needs_a_joined_socket(live_url: str, factory: Factory) -> None:
    await practice_question(factory)
    user = await factory.interviewee()
    session_id = (await started(factory, user))["session"]["id"]
    from tests.realtime.support import Peer

    peer = await Peer(live_url, user.token).connect()
    try:
        assert await say(peer, session_id, "hi") == {"ok": False, "code": "NOT_JOINED"}
    finally:
        await peer.close()


async def test_a_second_question_is_one_the_interviewee_has_not_had(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    first = await practice_question(factory)
    second = await practice_question(factory)
    user = await factory.interviewee()
    one = await started(factory, user)
    assert one["session"]["questions"][0]["question_id"] == first["id"]
    await client.post(f"/api/interview-sessions/{one['session']['id']}/end", headers=user.headers)
    two = await started(factory, user)
    assert two["session"]["questions"][0]["question_id"] == second["id"]
    await client.post(f"/api/interview-sessions/{two['session']['id']}/end", headers=user.headers)
    refused = await factory.client.post(
        "/api/practice-sessions",
        json={"category": "practice-trees", "difficulty": "MEDIUM", "type": "CODING"},
        headers=user.headers,
    )
    assert refused.status_code == 409
    assert refused.json()["code"] == "NO_QUESTION_AVAILABLE"


async def test_practice_sessions_show_in_the_users_sessions_and_analytics(
    factory: Factory, client: httpx.AsyncClient
) -> None:
    await practice_question(factory)
    user = await factory.interviewee()
    session_id = (await started(factory, user))["session"]["id"]
    listed = (await client.get("/api/interview-sessions", headers=user.headers)).json()
    assert [(s["id"], s["kind"]) for s in listed["items"]] == [(session_id, "PRACTICE")]
    factory.clock.advance(minutes=20)
    await client.post(f"/api/interview-sessions/{session_id}/end", headers=user.headers)
    mine = (await client.get("/api/analytics/me", headers=user.headers)).json()
    assert mine["sessions"]["completed"] == 1
    assert mine["sessions"]["as_interviewee"] == 1
    assert mine["sessions"]["as_interviewer"] == 0
    assert mine["sessions"]["practice"] == 1
    assert mine["minutes_practised"] == 20.0
    # Never on the board of open requests: a practice session has no request.
    interviewer = await factory.interviewer()
    board = (await client.get("/api/interview-requests/open", headers=interviewer.headers)).json()
    assert board["items"] == []
