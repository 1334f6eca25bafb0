"""SQL for the questions table."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB

from peerview.db import Connection, RowMapping, insert_ignoring_conflicts
from peerview.models import Question, SessionQuestion
from peerview.models.base import table_of
from peerview.pagination import after

questions = table_of(Question)
session_questions = table_of(SessionQuestion)

COLUMNS = (
    questions.c.id,
    questions.c.title,
    questions.c.prompt,
    questions.c.category,
    questions.c.difficulty,
    questions.c.type,
    questions.c.tags,
    questions.c.hints,
    questions.c.solution,
    questions.c.created_at,
    questions.c.updated_at,
    questions.c.deleted_at,
)
ORDER = (questions.c.created_at, questions.c.id)


def _has_tag(db: Connection, tag: str) -> ColumnElement[bool]:
    if db.dialect == "postgresql":
        # JSONB containment (`@>`), which a GIN index on tags could serve.
        return type_coerce(questions.c.tags, JSONB).contains([tag])
    elements = func.json_each(questions.c.tags).table_valued("value")
    return exists(select(literal(1)).select_from(elements).where(elements.c.value == tag))


async def insert_question(db: Connection, values: dict[str, Any]) -> RowMapping:
    result = await db.execute(insert(questions).values(**values).returning(*COLUMNS))
    return result.mappings().one()


async def insert_new_seeded(db: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose `seed_key` is not present yet; how many were added."""
    if not rows:
        return 0
    statement = (
        insert_ignoring_conflicts(db.dialect, questions).values(rows).returning(questions.c.id)
    )
    result = await db.execute(statement)
    return len(result.all())


async def get(db: Connection, question_id: str, *, include_deleted: bool) -> RowMapping | None:
    query = select(*COLUMNS).where(questions.c.id == question_id)
    if not include_deleted:
        query = query.where(questions.c.deleted_at.is_(None))
    result = await db.execute(query)
    return result.mappings().first()


async def list_questions(
    db: Connection,
    *,
    category: str | None,
    difficulty: str | None,
    type: str | None,
    tag: str | None,
    text: str | None,
    include_deleted: bool,
    cursor: list[Any] | None,
    limit: int,
) -> list[RowMapping]:
    query = select(*COLUMNS).order_by(*ORDER).limit(limit + 1)
    if not include_deleted:
        query = query.where(questions.c.deleted_at.is_(None))
    if category is not None:
        query = query.where(questions.c.category == category)
    if difficulty is not None:
        query = query.where(questions.c.difficulty == difficulty)
    if type is not None:
        query = query.where(questions.c.type == type)
    if tag is not None:
        query = query.where(_has_tag(db, tag))
    if text is not None:
        # autoescape: `%` and `_` typed by a user are searched for, not used as wildcards.
        query = query.where(
            questions.c.title.icontains(text, autoescape=True)
            | questions.c.prompt.icontains(text, autoescape=True)
        )
    if cursor is not None:
        query = query.where(after(ORDER, cursor))
    result = await db.execute(query)
    return list(result.mappings().all())


async def list_candidates(
    db: Connection,
    *,
    category: str,
    difficulty: str,
    type: str,
    exclude_ids: Collection[str],
    limit: int,
) -> list[RowMapping]:
    query = (
        select(*COLUMNS)
        .where(
            questions.c.deleted_at.is_(None),
            questions.c.category == category,
            questions.c.difficulty == difficulty,
            questions.c.type == type,
        )
        .order_by(*ORDER)
        .limit(limit)
    )
    if exclude_ids:
        query = query.where(questions.c.id.not_in(list(exclude_ids)))
    result = await db.execute(query)
    return list(result.mappings().all())


async def replace_active(
    db: Connection, question_id: str, values: dict[str, Any]
) -> RowMapping | None:
    result = await db.execute(
        update(questions)
        .where(questions.c.id == question_id, questions.c.deleted_at.is_(None))
        .values(**values)
        .returning(*COLUMNS)
    )
    return result.mappings().first()


async def soft_delete(db: Connection, question_id: str, *, now: datetime, by_id: str) -> bool:
    result = await db.execute(
        update(questions)
        .where(questions.c.id == question_id, questions.c.deleted_at.is_(None))
        .values(deleted_at=now, deleted_by_id=by_id, updated_at=now)
    )
    return result.rowcount == 1


async def restore(db: Connection, question_id: str, *, now: datetime) -> RowMapping | None:
    result = await db.execute(
        update(questions)
        .where(questions.c.id == question_id, questions.c.deleted_at.is_not(None))
        .values(deleted_at=None, deleted_by_id=None, updated_at=now)
        .returning(*COLUMNS)
    )
    return result.mappings().first()


async def used_in_session(db: Connection, question_id: str) -> bool:
    result = await db.execute(
        select(exists().where(session_questions.c.question_id == question_id))
    )
    return bool(result.scalar())


async def hard_delete_deleted(db: Connection, question_id: str) -> bool:
    """Remove a soft-deleted question for good; False when it is not (or no longer) deleted."""
    result = await db.execute(
        delete(questions).where(questions.c.id == question_id, questions.c.deleted_at.is_not(None))
    )
    return result.rowcount == 1
