"""Question bank: who sees which fields and which rows, edits, soft and hard deletion."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from peerview.actor import Actor
from peerview.db import Connection, IntegrityError, RowMapping
from peerview.models.base import new_id
from peerview.models.enums import Difficulty, QuestionType, Role
from peerview.pagination import Page, decode_cursor, page_of
from peerview.questions import repository
from peerview.questions.errors import (
    DeletedQuestionsForbidden,
    HardDeleteGuarded,
    QuestionNotDeleted,
    QuestionNotFound,
)
from peerview.questions.schemas import (
    QuestionCreate,
    QuestionPublicRead,
    QuestionRead,
    QuestionUpdate,
    StarterQuestion,
)

# Hints and solutions would spoil the interview for the person being interviewed.
SEES_ANSWERS = frozenset({Role.INTERVIEWER, Role.ADMIN})

QuestionView = QuestionRead | QuestionPublicRead


def view_for(actor: Actor, row: RowMapping) -> QuestionView:
    if actor.role in SEES_ANSWERS:
        return QuestionRead.model_validate(row)
    return QuestionPublicRead.model_validate(row)


def check_may_include_deleted(actor: Actor, include_deleted: bool) -> None:
    if include_deleted and not actor.is_admin:
        raise DeletedQuestionsForbidden()


def _editable(body: QuestionCreate) -> dict[str, Any]:
    return {
        "title": body.title,
        "prompt": body.prompt,
        "category": body.category,
        "difficulty": body.difficulty.value,
        "type": body.type.value,
        "tags": body.tags,
        "hints": body.hints,
        "solution": body.solution,
    }


async def list_questions(
    *,
    db: Connection,
    actor: Actor,
    category: str | None,
    difficulty: Difficulty | None,
    type: QuestionType | None,
    tag: str | None,
    text: str | None,
    include_deleted: bool,
    cursor: str | None,
    limit: int,
) -> Page[QuestionRead] | Page[QuestionPublicRead]:
    check_may_include_deleted(actor, include_deleted)
    position = decode_cursor(cursor, datetime, str)
    rows = await repository.list_questions(
        db,
        category=category.strip().lower() if category else None,
        difficulty=difficulty.value if difficulty else None,
        type=type.value if type else None,
        tag=tag.strip().lower() if tag else None,
        text=text or None,
        include_deleted=include_deleted,
        cursor=position,
        limit=limit,
    )

    def key(q: QuestionPublicRead) -> tuple[datetime, str]:
        return (q.created_at, q.id)

    if actor.role in SEES_ANSWERS:
        return page_of([QuestionRead.model_validate(r) for r in rows], limit, key)
    return page_of([QuestionPublicRead.model_validate(r) for r in rows], limit, key)


async def get(*, db: Connection, actor: Actor, question_id: str) -> QuestionView:
    row = await repository.get(db, question_id, include_deleted=actor.is_admin)
    if row is None:
        raise QuestionNotFound()
    return view_for(actor, row)


async def create(
    *, db: Connection, now: datetime, actor: Actor, body: QuestionCreate
) -> QuestionRead:
    values = {
        "id": new_id(),
        **_editable(body),
        "created_by_id": actor.id,
        "created_at": now,
        "updated_at": now,
    }
    return QuestionRead.model_validate(await repository.insert_question(db, values))


async def replace(
    *, db: Connection, now: datetime, question_id: str, body: QuestionUpdate
) -> QuestionRead:
    row = await repository.replace_active(db, question_id, {**_editable(body), "updated_at": now})
    if row is None:
        raise QuestionNotFound()
    return QuestionRead.model_validate(row)


async def soft_delete(*, db: Connection, now: datetime, actor: Actor, question_id: str) -> None:
    if not await repository.soft_delete(db, question_id, now=now, by_id=actor.id):
        raise QuestionNotFound()


async def restore(*, db: Connection, now: datetime, question_id: str) -> QuestionRead:
    row = await repository.restore(db, question_id, now=now)
    if row is not None:
        return QuestionRead.model_validate(row)
    if await repository.get(db, question_id, include_deleted=True) is None:
        raise QuestionNotFound()
    raise QuestionNotDeleted()


async def hard_delete(*, db: Connection, question_id: str) -> None:
    row = await repository.get(db, question_id, include_deleted=True)
    if row is None:
        raise QuestionNotFound()
    if row["deleted_at"] is None:
        raise HardDeleteGuarded("Soft-delete the question first")
    if await repository.used_in_session(db, question_id):
        raise HardDeleteGuarded("The question was used in a session; it stays soft-deleted")
    try:
        # The RESTRICT foreign key of session_questions is the backstop for a question
        # added to a session between the check above and this delete.
        async with db.savepoint():
            deleted = await repository.hard_delete_deleted(db, question_id)
    except IntegrityError as exc:
        raise HardDeleteGuarded("The question was used in a session") from exc
    if not deleted:
        # Restored by someone else in the meantime.
        raise HardDeleteGuarded("Soft-delete the question first")


async def get_active(db: Connection, question_id: str) -> RowMapping | None:
    """A question that is not deleted, hints and solution included; for session questions."""
    return await repository.get(db, question_id, include_deleted=False)


async def list_candidates(
    db: Connection,
    *,
    category: str,
    difficulty: str,
    type: str,
    exclude_ids: Collection[str],
    limit: int,
) -> list[RowMapping]:
    """Questions not deleted matching a session's kind, oldest first, minus `exclude_ids`."""
    return await repository.list_candidates(
        db,
        category=category.lower(),
        difficulty=str(difficulty),
        type=str(type),
        exclude_ids=exclude_ids,
        limit=limit,
    )


async def add_starter_questions(
    *, db: Connection, now: datetime, entries: Sequence[StarterQuestion]
) -> int:
    """Insert the starter questions not present yet (by `seed_key`); how many were added."""
    rows = [
        {
            "id": new_id(),
            **_editable(entry),
            "seed_key": entry.seed_key,
            "created_at": now,
            "updated_at": now,
        }
        for entry in entries
    ]
    return await repository.insert_new_seeded(db, rows)
