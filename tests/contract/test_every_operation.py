"""A scripted walk through the whole API: every documented operation answers a documented 2xx.

Fuzzing rarely gets deep enough for every success answer (feedback needs a completed
session, a hard delete a soft-deleted unused question), so this scenario takes each operation
the way a client would, as the role allowed to, and passes every answer through the contract
checks: documented status and content type, body matching its schema, security headers,
credentials enforced, no password hash. It ends by checking that no operation was left out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from peerview.models.enums import Role
from tests.contract.support import SOON, FuzzTarget

ADMIN, INTERVIEWER, INTERVIEWEE = Role.ADMIN, Role.INTERVIEWER, Role.INTERVIEWEE
PASSWORD = "correct horse battery"


def test_every_operation_answers_a_documented_success(fuzz_target: FuzzTarget) -> None:
    target = fuzz_target
    target.validate = True
    reached: set[str] = set()
    now = target.clock.now()

    # The walk's own interviewer and interviewee, registered below: the seeded ones already
    # have a session at the time the walk's session starts.
    tokens: dict[Role, str] = {}

    def ok(method: str, path: str, role: Role | None, **kwargs: Any) -> Any:
        reached.add(f"{method} {path}")
        if role in tokens:
            kwargs["headers"] = {"Authorization": f"Bearer {tokens[role]}"}
        return target.ok(method, path, role, **kwargs)

    def request_body(scheduled_in: timedelta) -> dict[str, Any]:
        return {
            "category": "arrays",
            "difficulty": "EASY",
            "type": "CODING",
            "scheduled_at": (now + scheduled_in).isoformat(),
            "duration_minutes": 45,
            "note": "Warm-up",
        }

    try:
        ok("GET", "/api/health", None)
        ok("GET", "/metrics", None)
        # The target's admin was made through POST /api/setup/admin (its one success, checked
        # as it was built): setup is closed now.
        assert ok("GET", "/api/setup", None) == {"setup_open": False}

        # Accounts.
        newcomer = ok(
            "POST",
            "/api/auth/register",
            None,
            body={
                "name": "Newcomer",
                "email": "newcomer@example.com",
                "password": PASSWORD,
                "role": "INTERVIEWEE",
            },
        )
        tokens[INTERVIEWEE] = newcomer["access_token"]
        walker = ok(
            "POST",
            "/api/auth/register",
            None,
            body={
                "name": "Walker",
                "email": "walker@example.com",
                "password": PASSWORD,
                "role": "INTERVIEWER",
            },
        )
        tokens[INTERVIEWER] = walker["access_token"]
        login = {"email": "newcomer@example.com", "password": PASSWORD}
        ok("POST", "/api/auth/login", None, body=login)
        form = {"username": "newcomer@example.com", "password": PASSWORD}
        ok(
            "POST",
            "/api/auth/token",
            None,
            body=form,
            media_type="application/x-www-form-urlencoded",
        )
        ok("GET", "/api/auth/me", INTERVIEWEE)
        ok("PATCH", "/api/users/me", INTERVIEWEE, body={"name": "Fuzz Interviewee"})
        ok("GET", "/api/users", ADMIN, query={"role": "INTERVIEWEE", "limit": 5})
        user_id = {"user_id": target.known_ids["user_id"][0]}
        ok("GET", "/api/users/{user_id}", INTERVIEWER, path_parameters=user_id)
        ok(
            "PATCH",
            "/api/users/{user_id}",
            ADMIN,
            path_parameters=user_id,
            body={"is_active": True},
        )

        # The question bank.
        question_body = {
            "title": "Two sum",
            "prompt": "Find two numbers adding up to a target.",
            "category": "arrays",
            "difficulty": "EASY",
            "type": "CODING",
            "tags": ["hashing"],
            "hints": ["A set of seen numbers"],
            "solution": "One pass with a set.",
        }
        question = ok("POST", "/api/questions", ADMIN, body=question_body)
        spare = ok("POST", "/api/questions", ADMIN, body={**question_body, "title": "Spare"})
        imported = ok(
            "POST",
            "/api/questions/import",
            ADMIN,
            body=[question_body, {**question_body, "title": "Imported"}],
        )
        assert [item["outcome"] for item in imported["items"]] == ["skipped", "created"]
        ok("GET", "/api/questions", INTERVIEWEE, query={"category": "arrays", "q": "sum"})
        question_id = {"question_id": question["id"]}
        spare_id = {"question_id": spare["id"]}
        ok("GET", "/api/questions/{question_id}", INTERVIEWER, path_parameters=question_id)
        ok(
            "PUT",
            "/api/questions/{question_id}",
            ADMIN,
            path_parameters=question_id,
            body=question_body,
        )
        ok("DELETE", "/api/questions/{question_id}", ADMIN, path_parameters=spare_id)
        ok("POST", "/api/questions/{question_id}/restore", ADMIN, path_parameters=spare_id)
        ok("DELETE", "/api/questions/{question_id}", ADMIN, path_parameters=spare_id)
        ok(
            "DELETE",
            "/api/questions/{question_id}",
            ADMIN,
            path_parameters=spare_id,
            query={"hard": True},
        )

        # Requests.
        request = ok("POST", "/api/interview-requests", INTERVIEWEE, body=request_body(SOON))
        other = ok(
            "POST", "/api/interview-requests", INTERVIEWEE, body=request_body(timedelta(days=2))
        )
        dropped = ok(
            "POST", "/api/interview-requests", INTERVIEWEE, body=request_body(timedelta(days=3))
        )
        ok("GET", "/api/interview-requests/open", INTERVIEWER, query={"difficulty": "EASY"})
        ok("GET", "/api/interview-requests/mine", INTERVIEWEE, query={"status": "OPEN"})
        request_id = {"request_id": request["id"]}
        ok("GET", "/api/interview-requests/{request_id}", INTERVIEWER, path_parameters=request_id)
        ok(
            "POST",
            "/api/interview-requests/{request_id}/cancel",
            INTERVIEWEE,
            path_parameters={"request_id": dropped["id"]},
        )
        session = ok(
            "POST",
            "/api/interview-requests/{request_id}/accept",
            INTERVIEWER,
            path_parameters=request_id,
        )
        later = ok(
            "POST",
            "/api/interview-requests/{request_id}/accept",
            INTERVIEWER,
            path_parameters={"request_id": other["id"]},
        )

        # The session, from lobby to feedback.
        session_id = {"session_id": session["id"]}
        ok("GET", "/api/interview-sessions", INTERVIEWEE, query={"status": "SCHEDULED"})
        ok("GET", "/api/interview-sessions/{session_id}", INTERVIEWER, path_parameters=session_id)
        ok(
            "GET",
            "/api/interview-sessions/{session_id}/calendar.ics",
            INTERVIEWEE,
            path_parameters=session_id,
        )
        ok(
            "POST",
            "/api/interview-sessions/{session_id}/cancel",
            INTERVIEWEE,
            path_parameters={"session_id": later["id"]},
            body={"reason": "Clash"},
        )
        ok(
            "POST",
            "/api/interview-sessions/{session_id}/start",
            INTERVIEWER,
            path_parameters=session_id,
        )
        ok(
            "POST",
            "/api/interview-sessions/{session_id}/join",
            INTERVIEWEE,
            path_parameters=session_id,
        )
        ok(
            "POST",
            "/api/interview-sessions/{session_id}/questions",
            INTERVIEWER,
            path_parameters=session_id,
            body={"question_id": question["id"]},
        )
        ok(
            "POST",
            "/api/interview-sessions/{session_id}/questions/suggest",
            INTERVIEWER,
            path_parameters=session_id,
            body={"count": 2},
        )
        ok(
            "PATCH",
            "/api/interview-sessions/{session_id}/code",
            INTERVIEWER,
            path_parameters=session_id,
            body={"language": "go"},
        )
        ok("GET", "/api/interview-sessions/{session_id}/code", ADMIN, path_parameters=session_id)
        ok(
            "DELETE",
            "/api/interview-sessions/{session_id}/questions/{question_id}",
            INTERVIEWER,
            path_parameters={**session_id, **question_id},
        )
        ok(
            "POST",
            "/api/interview-sessions/{session_id}/extend",
            INTERVIEWER,
            path_parameters=session_id,
            body={"minutes": 10},
        )
        ok(
            "POST",
            "/api/interview-sessions/{session_id}/end",
            INTERVIEWER,
            path_parameters=session_id,
        )
        ratings = {"communication": 5, "problem_solving": 4, "technical": 4, "overall": 4}
        for author in (INTERVIEWEE, INTERVIEWER):
            ok(
                "POST",
                "/api/feedback",
                author,
                body={"session_id": session["id"], "ratings": ratings, "comments": "Thanks"},
            )
        ok("GET", "/api/feedback/session/{session_id}", INTERVIEWEE, path_parameters=session_id)
        ok("GET", "/api/feedback/received", INTERVIEWER, query={"limit": 10})

        # Practice with the AI interviewer (the built-in one: no model is configured).
        ok("POST", "/api/questions", ADMIN, body={**question_body, "category": "practice"})
        practice = ok(
            "POST",
            "/api/practice-sessions",
            INTERVIEWEE,
            body={
                "category": "practice",
                "difficulty": question_body["difficulty"],
                "type": question_body["type"],
                "duration_minutes": 30,
            },
        )
        practice_id = {"session_id": practice["session"]["id"]}
        ok("GET", "/api/practice-sessions/{session_id}", INTERVIEWEE, path_parameters=practice_id)
        ok(
            "GET",
            "/api/practice-sessions/{session_id}/transcript",
            ADMIN,
            path_parameters=practice_id,
        )

        # Notifications and analytics.
        notifications = ok("GET", "/api/notifications", INTERVIEWEE, query={"unread": True})
        ok(
            "POST",
            "/api/notifications/{notification_id}/read",
            INTERVIEWEE,
            path_parameters={"notification_id": notifications["items"][0]["id"]},
        )
        ok("POST", "/api/notifications/read-all", INTERVIEWEE)
        period = {
            "from": (now - timedelta(days=1)).isoformat(),
            "to": (now + timedelta(days=1)).isoformat(),
        }
        ok("GET", "/api/analytics/me", INTERVIEWER, query=period)
        ok("GET", "/api/analytics/platform", ADMIN, query=period)

        ok("POST", "/api/auth/logout", INTERVIEWEE)
    finally:
        target.validate = False

    documented = {
        f"{method.upper()} {path}"
        for path, ops in target.schema.raw_schema["paths"].items()
        for method in ops
    }
    assert documented - reached - target.validated_while_built == set()
