"""Helpers for analytics tests: drive the API step by step at chosen instants."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from peerview.analytics.rebuild import rebuild
from peerview.models import InterviewRequest, InterviewSession
from peerview.models.base import new_id, table_of
from tests.factories import Factory, TestUser
from tests.support.sql import execute


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """An instant in January 2030 (UTC); the 7th, 14th and 21st are Mondays."""
    return datetime(2030, 1, day, hour, minute, tzinfo=UTC)


class Driver:
    """Each call sets the clock first, then makes one API call that must succeed."""

    def __init__(self, factory: Factory) -> None:
        self.factory = factory

    async def _post(self, when: datetime, path: str, user: TestUser, body: Any, status: int) -> Any:
        self.factory.clock.set(when)
        response = await self.factory.client.post(path, json=body, headers=user.headers)
        assert response.status_code == status, response.text
        return response.json()

    async def request(
        self, when: datetime, user: TestUser, *, scheduled_at: datetime, category: str
    ) -> str:
        body = {
            "category": category,
            "difficulty": "MEDIUM",
            "type": "CODING",
            "scheduled_at": scheduled_at.isoformat(),
            "duration_minutes": 60,
        }
        created = await self._post(when, "/api/interview-requests", user, body, 201)
        return str(created["id"])

    async def accept(self, when: datetime, user: TestUser, request_id: str) -> str:
        path = f"/api/interview-requests/{request_id}/accept"
        session = await self._post(when, path, user, None, 201)
        return str(session["id"])

    async def cancel_request(self, when: datetime, user: TestUser, request_id: str) -> None:
        await self._post(when, f"/api/interview-requests/{request_id}/cancel", user, None, 200)

    async def session_action(
        self, when: datetime, user: TestUser, session_id: str, action: str
    ) -> None:
        path = f"/api/interview-sessions/{session_id}/{action}"
        await self._post(when, path, user, {} if action == "cancel" else None, 200)

    async def feedback(
        self, when: datetime, user: TestUser, session_id: str, ratings: tuple[int, int, int, int]
    ) -> None:
        names = ("communication", "problem_solving", "technical", "overall")
        body = {"session_id": session_id, "ratings": dict(zip(names, ratings, strict=True))}
        await self._post(when, "/api/feedback", user, body, 201)

    async def get(self, user: TestUser, path: str, **params: Any) -> Any:
        response = await self.factory.client.get(path, params=params, headers=user.headers)
        assert response.status_code == 200, response.text
        return response.json()


async def due_rows(factory: Factory, count: int) -> None:
    """`count` OPEN requests and as many SCHEDULED sessions, over several days, all due."""
    interviewer, interviewee = await factory.interviewer(), await factory.interviewee()
    requests, sessions = [], []
    for n in range(count):
        created = at(2, 9) + timedelta(hours=n, microseconds=n)
        scheduled = created + timedelta(days=1)
        common = {
            "interviewee_id": interviewee.id,
            "category": "arrays",
            "difficulty": "MEDIUM",
            "type": "CODING",
            "scheduled_at": scheduled,
            "duration_minutes": 60,
            "note": "",
            "expires_at": scheduled - timedelta(hours=5),
            "created_at": created,
            "updated_at": created,
        }
        requests.append({"id": new_id(), **common, "status": "OPEN", "accepted_at": None})
        request_id = new_id()
        accepted = {"status": "ACCEPTED", "accepted_at": created + timedelta(minutes=n)}
        requests.append({"id": request_id, **common, **accepted})
        sessions.append(
            {
                "id": new_id(),
                "request_id": request_id,
                "interviewer_id": interviewer.id,
                "interviewee_id": interviewee.id,
                "category": "arrays",
                "difficulty": "MEDIUM",
                "type": "CODING",
                "status": "SCHEDULED",
                "scheduled_at": scheduled,
                "duration_minutes": 60,
                "scheduled_end_at": scheduled + timedelta(minutes=60),
                "extended_minutes": 0,
                "version": 0,
                "created_at": created + timedelta(minutes=n),
                "updated_at": created,
            }
        )
    async with factory.app.services.database.transaction() as db:
        await execute(db, insert(table_of(InterviewRequest)), requests)
        await execute(db, insert(table_of(InterviewSession)), sessions)
        await rebuild(db)
