"""Analytics cost a bounded number of SQL statements, however much history there is."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from sqlalchemy import insert

from peerview.analytics.rebuild import rebuild
from peerview.models import Feedback, InterviewRequest, InterviewSession
from peerview.models.base import new_id, table_of
from tests.analytics.support import at
from tests.factories import Factory, TestUser
from tests.support.sql import execute
from tests.support.statements import counting_statements

CATEGORIES = ("arrays", "graphs", "dp", "system-design")
# Stored states and the times that make each of them (past, overdue, ongoing, future).
KINDS = ("COMPLETED", "LIVE_OVERDUE", "LIVE", "SCHEDULED", "SCHEDULED_MISSED", "CANCELLED")


def _rows(
    count: int, offset: int, interviewer: TestUser, interviewee: TestUser
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    now = at(14, 10)
    requests, sessions, feedback = [], [], []
    for n in range(offset, offset + count):
        kind = KINDS[n % len(KINDS)]
        scheduled = now + timedelta(hours=(n % 500) - 250, minutes=n % 60)
        if kind in ("LIVE", "SCHEDULED"):
            scheduled = now + timedelta(minutes=5 + n % 20)
        created = scheduled - timedelta(days=2)
        request_id, session_id = new_id(), new_id()
        started = scheduled if kind.startswith("LIVE") or kind == "COMPLETED" else None
        hard_end = None
        if started is not None:
            hard_end = started + timedelta(minutes=90)
            if kind == "LIVE":
                hard_end = now + timedelta(minutes=60)
            elif kind == "LIVE_OVERDUE":
                hard_end = now - timedelta(minutes=1)
        status = {"LIVE_OVERDUE": "LIVE", "SCHEDULED_MISSED": "SCHEDULED"}.get(kind, kind)
        if kind == "SCHEDULED_MISSED":
            scheduled = now - timedelta(hours=2)
        category = CATEGORIES[n % len(CATEGORIES)]
        common = {"category": category, "difficulty": "MEDIUM", "type": "CODING"}
        requests.append(
            {
                "id": request_id,
                "interviewee_id": interviewee.id,
                **common,
                "scheduled_at": scheduled,
                "duration_minutes": 60,
                "note": "",
                "status": "ACCEPTED",
                "expires_at": scheduled - timedelta(hours=5),
                "accepted_at": created + timedelta(minutes=n % 90),
                "created_at": created,
                "updated_at": created,
            }
        )
        sessions.append(
            {
                "id": session_id,
                "request_id": request_id,
                "interviewer_id": interviewer.id,
                "interviewee_id": interviewee.id,
                **common,
                "status": status,
                "scheduled_at": scheduled,
                "duration_minutes": 60,
                "scheduled_end_at": scheduled + timedelta(minutes=60),
                "started_at": started,
                "planned_end_at": None if started is None else started + timedelta(minutes=60),
                "hard_end_at": hard_end,
                "ended_at": started + timedelta(minutes=50) if kind == "COMPLETED" else None,
                "end_reason": {
                    "COMPLETED": "ENDED_BY_INTERVIEWER",
                    "CANCELLED": "CANCELLED_BY_INTERVIEWEE",
                }.get(kind),
                "extended_minutes": 0,
                "version": 1,
                "created_at": created,
                "updated_at": created,
            }
        )
        for author, subject, role in (
            (interviewer, interviewee, "INTERVIEWER"),
            (interviewee, interviewer, "INTERVIEWEE"),
        ):
            rating = 1 + (n + len(role)) % 5
            feedback.append(
                {
                    "id": new_id(),
                    "session_id": session_id,
                    "author_id": author.id,
                    "subject_id": subject.id,
                    "author_role": role,
                    "communication": rating,
                    "problem_solving": rating,
                    "technical": rating,
                    "overall": rating,
                    "comments": "",
                    "created_at": scheduled + timedelta(hours=2),
                }
            )
    return requests, sessions, feedback


async def _bulk_insert(
    app: FastAPI, count: int, offset: int, interviewer: TestUser, interviewee: TestUser
) -> None:
    requests, sessions, feedback = _rows(count, offset, interviewer, interviewee)
    async with app.services.database.transaction() as db:
        for table, rows in (
            (table_of(InterviewRequest), requests),
            (table_of(InterviewSession), sessions),
            (table_of(Feedback), feedback),
        ):
            for start in range(0, len(rows), 5000):
                await execute(db, insert(table), rows[start : start + 5000])
        # Rows written behind the application's back: the rollups are recounted from them.
        await rebuild(db)


async def _statements_per_call(factory: Factory, calls: list[tuple[str, TestUser]]) -> list[int]:
    counts = []
    for path, user in calls:
        with counting_statements(factory.app) as statements:
            response = await factory.client.get(path, headers=user.headers)
        assert response.status_code == 200, response.text
        counts.append(len(statements))
    return counts


async def test_analytics_run_a_bounded_number_of_statements_whatever_the_history(
    factory: Factory,
) -> None:
    factory.clock.set(at(14, 10))
    admin = await factory.admin()
    interviewer, interviewee = await factory.interviewer(), await factory.interviewee()
    calls = [
        ("/api/analytics/me", interviewer),
        ("/api/analytics/me", interviewee),
        ("/api/analytics/platform", admin),
    ]
    await _bulk_insert(factory.app, 10, 0, interviewer, interviewee)
    small = await _statements_per_call(factory, calls)
    await _bulk_insert(factory.app, 9_990, 10, interviewer, interviewee)
    large = await _statements_per_call(factory, calls)
    assert large == small
    # Authentication, a BEGIN on SQLite, and the aggregates themselves.
    assert all(n <= 8 for n in large), large
    response = await factory.client.get("/api/analytics/me", headers=interviewer.headers)
    body = response.json()
    assert (
        sum(body["sessions"][k] for k in ("completed", "cancelled", "live", "scheduled")) == 10_000
    )
    assert body["sessions"]["as_interviewer"] == 10_000
    assert body["ratings_received"]["count"] == 10_000
    platform = (await factory.client.get("/api/analytics/platform", headers=admin.headers)).json()
    assert sum(platform["sessions"].values()) == 10_000
    assert sum(week["sessions"] for week in platform["sessions_weekly"]) == 10_000
    assert sum(c["count"] for c in platform["ratings_by_category"]) == 20_000
    assert [c["category"] for c in platform["ratings_by_category"]] == sorted(CATEGORIES)
    for kind in ("auto_timeout", "no_show", "live", "scheduled", "cancelled", "completed"):
        assert platform["sessions"][kind] > 0, kind
