"""Permanent deletion is guarded: soft-deleted first, and never used in a session
(docs/api.md §6)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import insert, select

from peerview.clock import FakeClock
from peerview.models import InterviewRequest, InterviewSession, Question, SessionQuestion
from peerview.models.base import new_id, table_of
from peerview.questions import repository
from tests.factories import Factory
from tests.factories import TestUser as AppUser
from tests.questions.conftest import MakeQuestion
from tests.support.sql import execute


async def _use_in_session(
    app: FastAPI, factory: Factory, clock: FakeClock, question: dict[str, object]
) -> None:
    """Attach the question to a session, with the request and people that session needs."""
    interviewer = await factory.interviewer()
    interviewee = await factory.interviewee()
    now = clock.now()
    scheduled_at = now + timedelta(days=1)
    request_id, session_id = new_id(), new_id()
    kind = {"category": "arrays", "difficulty": "EASY", "type": "CODING"}
    async with app.services.database.transaction() as db:
        await execute(
            db,
            insert(table_of(InterviewRequest)).values(
                id=request_id,
                interviewee_id=interviewee.id,
                **kind,
                scheduled_at=scheduled_at,
                duration_minutes=60,
                note="",
                status="ACCEPTED",
                expires_at=scheduled_at - timedelta(hours=5),
                accepted_at=now,
                created_at=now,
                updated_at=now,
            ),
        )
        await execute(
            db,
            insert(table_of(InterviewSession)).values(
                id=session_id,
                request_id=request_id,
                interviewer_id=interviewer.id,
                interviewee_id=interviewee.id,
                **kind,
                status="SCHEDULED",
                scheduled_at=scheduled_at,
                duration_minutes=60,
                scheduled_end_at=scheduled_at + timedelta(minutes=60),
                extended_minutes=0,
                version=0,
                created_at=now,
                updated_at=now,
            ),
        )
        await execute(
            db,
            insert(table_of(SessionQuestion)).values(
                id=new_id(),
                session_id=session_id,
                question_id=question["id"],
                position=1,
                title=question["title"],
                prompt=question["prompt"],
                hints=question["hints"],
                solution=question["solution"],
                added_at=now,
            ),
        )


async def _exists(app: FastAPI, question_id: str) -> bool:
    questions = table_of(Question)
    async with app.services.database.transaction(write=False) as db:
        result = await execute(db, select(questions.c.id).where(questions.c.id == question_id))
        return result.first() is not None


async def test_hard_delete_of_a_question_not_soft_deleted_is_409(
    client: httpx.AsyncClient, app: FastAPI, admin: AppUser, question: MakeQuestion
) -> None:
    created = await question()
    response = await client.delete(
        f"/api/questions/{created['id']}?hard=true", headers=admin.headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "HARD_DELETE_GUARDED"
    assert await _exists(app, created["id"])


async def test_hard_delete_after_soft_delete_removes_the_question_204(
    client: httpx.AsyncClient, app: FastAPI, admin: AppUser, question: MakeQuestion
) -> None:
    created = await question()
    await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
    response = await client.delete(
        f"/api/questions/{created['id']}?hard=true", headers=admin.headers
    )
    assert response.status_code == 204
    assert not await _exists(app, created["id"])
    again = await client.delete(f"/api/questions/{created['id']}?hard=true", headers=admin.headers)
    assert again.status_code == 404
    assert again.json()["code"] == "QUESTION_NOT_FOUND"


async def test_hard_delete_of_a_question_used_in_a_session_is_409(
    client: httpx.AsyncClient,
    app: FastAPI,
    factory: Factory,
    clock: FakeClock,
    admin: AppUser,
    question: MakeQuestion,
) -> None:
    created = await question()
    await _use_in_session(app, factory, clock, created)
    await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
    response = await client.delete(
        f"/api/questions/{created['id']}?hard=true", headers=admin.headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "HARD_DELETE_GUARDED"
    assert await _exists(app, created["id"])


async def test_hard_delete_foreign_key_backstop_is_409(
    client: httpx.AsyncClient,
    app: FastAPI,
    factory: Factory,
    clock: FakeClock,
    admin: AppUser,
    question: MakeQuestion,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Were the explicit check to miss a use (a race), the RESTRICT foreign key still refuses."""
    created = await question()
    await _use_in_session(app, factory, clock, created)
    await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)

    async def never_used(*_: object) -> bool:
        return False

    monkeypatch.setattr(repository, "used_in_session", never_used)
    response = await client.delete(
        f"/api/questions/{created['id']}?hard=true", headers=admin.headers
    )
    assert response.status_code == 409
    assert response.json()["code"] == "HARD_DELETE_GUARDED"
    assert await _exists(app, created["id"])


async def test_hard_delete_of_unknown_question_is_404(
    client: httpx.AsyncClient, admin: AppUser
) -> None:
    response = await client.delete("/api/questions/nope?hard=true", headers=admin.headers)
    assert response.status_code == 404
    assert response.json()["code"] == "QUESTION_NOT_FOUND"


async def test_hard_delete_by_non_admin_is_403(
    client: httpx.AsyncClient, factory: Factory, admin: AppUser, question: MakeQuestion
) -> None:
    created = await question()
    await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
    interviewer = await factory.interviewer()
    response = await client.delete(
        f"/api/questions/{created['id']}?hard=true", headers=interviewer.headers
    )
    assert response.status_code == 403


async def test_soft_delete_of_a_question_used_in_a_session_is_allowed(
    client: httpx.AsyncClient,
    app: FastAPI,
    factory: Factory,
    clock: FakeClock,
    admin: AppUser,
    question: MakeQuestion,
) -> None:
    created = await question()
    await _use_in_session(app, factory, clock, created)
    response = await client.delete(f"/api/questions/{created['id']}", headers=admin.headers)
    assert response.status_code == 204
