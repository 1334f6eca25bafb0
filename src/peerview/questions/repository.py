"""SQL for the questions table."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import (
    BigInteger,
    Boolean,
    ColumnElement,
    Executable,
    delete,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler

from peerview.db import (
    Connection,
    Dialect,
    Query,
    Variants,
    bind,
    binds_for,
    in_list,
    insert_ignoring_conflicts,
    not_in_list,
)
from peerview.models import Question, SessionQuestion
from peerview.models.base import table_of
from peerview.models.enums import Difficulty, QuestionType
from peerview.pagination import after, cursor_params

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
EDITABLE = ("title", "prompt", "category", "difficulty", "type", "tags", "hints", "solution")


class QuestionRow(msgspec.Struct, frozen=True):
    id: str
    title: str
    prompt: str
    category: str
    difficulty: Difficulty
    type: QuestionType
    tags: list[str]
    hints: list[str]
    solution: str
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class TitledQuestion(msgspec.Struct, frozen=True):
    """What an import compares an item with: a question's title and category."""

    id: str
    title: str
    category: str
    deleted_at: datetime | None


class HasTag(ColumnElement[bool]):
    """The question's `tags` hold the parameter `tag`."""

    inherit_cache = True
    type = Boolean()


@compiles(HasTag, "postgresql")
def _has_tag_postgresql(_: HasTag, compiler: SQLCompiler, **kw: Any) -> str:
    # JSONB containment (`@>`), which a GIN index on tags could serve.
    tag = compiler.process(bind("tag", questions.c.category.type), **kw)
    return f"questions.tags @> jsonb_build_array({tag}::text)"


@compiles(HasTag, "sqlite")
def _has_tag_sqlite(_: HasTag, compiler: SQLCompiler, **kw: Any) -> str:
    tag = compiler.process(bind("tag", questions.c.category.type), **kw)
    return f"EXISTS (SELECT 1 FROM json_each(questions.tags) WHERE value = {tag})"  # noqa: S608


def like_pattern(text: str) -> str:
    """`text` as a case-insensitive substring pattern: `%` and `_` stand for themselves."""
    escaped = text.lower().replace("/", "//").replace("%", "/%").replace("_", "/_")
    return f"%{escaped}%"


_INSERT = Query(
    insert(questions)
    .values(
        binds_for(
            [
                questions.c.id,
                *(questions.c[name] for name in EDITABLE),
                questions.c.created_by_id,
                questions.c.created_at,
                questions.c.updated_at,
            ]
        )
    )
    .returning(*COLUMNS),
    QuestionRow,
)


def _seed(dialect: Dialect) -> Executable:
    values = binds_for(
        [
            questions.c.id,
            *(questions.c[name] for name in EDITABLE),
            questions.c.seed_key,
            questions.c.created_at,
            questions.c.updated_at,
        ]
    )
    statement = insert_ignoring_conflicts(dialect, questions).values(values)
    return statement.returning(questions.c.id)  # type: ignore[no-any-return]


_SEED = Query(_seed)


_INSERT_MANY = Query(
    insert(questions).values(
        binds_for(
            [
                questions.c.id,
                *(questions.c[name] for name in EDITABLE),
                questions.c.created_by_id,
                questions.c.created_at,
                questions.c.updated_at,
            ]
        )
    )
)
# The key of PostgreSQL's transaction-level advisory lock that imports take turns on: any
# constant no other part of Peerview uses ("pv-qimp!" read as a 64-bit integer).
IMPORT_LOCK_KEY = int.from_bytes(b"pv-qimp!", "big")
_IMPORT_LOCK = Query(select(func.pg_advisory_xact_lock(bind("key", BigInteger()))))
_TITLED_IN_CATEGORIES = Query(
    select(questions.c.id, questions.c.title, questions.c.category, questions.c.deleted_at)
    .where(in_list(questions.c.category, "categories"))
    .order_by(*ORDER),
    TitledQuestion,
)


def _get(include_deleted: bool) -> Executable:
    query = select(*COLUMNS).where(questions.c.id == bind("question_id"))
    return query if include_deleted else query.where(questions.c.deleted_at.is_(None))


_GET = Variants(_get, QuestionRow)


def _list(
    include_deleted: bool,
    category: bool,
    difficulty: bool,
    type_: bool,
    tag: bool,
    text: bool,
    cursor: bool,
) -> Executable:
    query = select(*COLUMNS).order_by(*ORDER).limit(bind("limit"))
    if not include_deleted:
        query = query.where(questions.c.deleted_at.is_(None))
    if category:
        query = query.where(questions.c.category == bind("category"))
    if difficulty:
        query = query.where(questions.c.difficulty == bind("difficulty"))
    if type_:
        query = query.where(questions.c.type == bind("type"))
    if tag:
        query = query.where(HasTag())
    if text:
        pattern = bind("pattern", questions.c.title.type)
        query = query.where(
            func.lower(questions.c.title).like(pattern, escape="/")
            | func.lower(questions.c.prompt).like(pattern, escape="/")
        )
    if cursor:
        query = query.where(after(ORDER))
    return query


_LIST = Variants(_list, QuestionRow)


def _candidates(excluding: bool) -> Executable:
    query = (
        select(*COLUMNS)
        .where(
            questions.c.deleted_at.is_(None),
            questions.c.category == bind("category"),
            questions.c.difficulty == bind("difficulty"),
            questions.c.type == bind("type"),
        )
        .order_by(*ORDER)
        .limit(bind("limit"))
    )
    if excluding:
        query = query.where(not_in_list(questions.c.id, "exclude_ids"))
    return query


_CANDIDATES = Variants(_candidates, QuestionRow)
_REPLACE_ACTIVE = Query(
    update(questions)
    .where(questions.c.id == bind("question_id"), questions.c.deleted_at.is_(None))
    .values({name: bind(name, questions.c[name].type) for name in (*EDITABLE, "updated_at")})
    .returning(*COLUMNS),
    QuestionRow,
)
_SOFT_DELETE = Query(
    update(questions)
    .where(questions.c.id == bind("question_id"), questions.c.deleted_at.is_(None))
    .values(
        deleted_at=bind("now", questions.c.deleted_at.type),
        deleted_by_id=bind("by_id"),
        updated_at=bind("now", questions.c.updated_at.type),
    )
)
_RESTORE = Query(
    update(questions)
    .where(questions.c.id == bind("question_id"), questions.c.deleted_at.is_not(None))
    .values(
        deleted_at=None, deleted_by_id=None, updated_at=bind("now", questions.c.updated_at.type)
    )
    .returning(*COLUMNS),
    QuestionRow,
)
_USED = Query(select(exists().where(session_questions.c.question_id == bind("question_id"))))
_HARD_DELETE = Query(
    delete(questions).where(
        questions.c.id == bind("question_id"), questions.c.deleted_at.is_not(None)
    )
)


async def insert_question(db: Connection, **values: Any) -> QuestionRow:
    row = await db.one(_INSERT, **values)
    assert row is not None
    return row


async def insert_new_seeded(db: Connection, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose `seed_key` is not present yet; how many were added."""
    added = 0
    for row in rows:
        added += len(await db.all(_SEED, **row))
    return added


async def insert_questions(db: Connection, rows: list[dict[str, Any]]) -> None:
    """Insert new questions in one batch (ids and times given)."""
    await db.run_many(_INSERT_MANY, rows)


async def lock_imports(db: Connection) -> None:
    """Make imports take turns until this transaction ends, so that two of them cannot both
    find a question missing and both add it. Where a writer's transaction already excludes
    every other writer (SQLite's one write lock, from its first statement) nothing is needed."""
    if not db.exclusive_writes:
        await db.scalar(_IMPORT_LOCK, key=IMPORT_LOCK_KEY)


async def titled_in_categories(db: Connection, categories: list[str]) -> list[TitledQuestion]:
    """Every question of these categories, soft-deleted ones included, oldest first."""
    return await db.all(_TITLED_IN_CATEGORIES, categories=categories)


async def get(db: Connection, question_id: str, *, include_deleted: bool) -> QuestionRow | None:
    return await db.one(_GET(include_deleted), question_id=question_id)


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
) -> list[QuestionRow]:
    filters: dict[str, Any] = {
        "category": category,
        "difficulty": difficulty,
        "type": type,
        "tag": tag,
        "pattern": like_pattern(text) if text is not None else None,
    }
    params: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
    params["limit"] = limit + 1
    if cursor is not None:
        params.update(cursor_params(cursor))
    query = _LIST(
        include_deleted, *(value is not None for value in filters.values()), cursor is not None
    )
    return await db.all(query, **params)


async def list_candidates(
    db: Connection,
    *,
    category: str,
    difficulty: str,
    type: str,
    exclude_ids: Collection[str],
    limit: int,
) -> list[QuestionRow]:
    params: dict[str, Any] = {
        "category": category,
        "difficulty": difficulty,
        "type": type,
        "limit": limit,
    }
    if exclude_ids:
        params["exclude_ids"] = list(exclude_ids)
    return await db.all(_CANDIDATES(bool(exclude_ids)), **params)


async def replace_active(db: Connection, question_id: str, **values: Any) -> QuestionRow | None:
    return await db.one(_REPLACE_ACTIVE, question_id=question_id, **values)


async def soft_delete(db: Connection, question_id: str, *, now: datetime, by_id: str) -> bool:
    return await db.run(_SOFT_DELETE, question_id=question_id, now=now, by_id=by_id) == 1


async def restore(db: Connection, question_id: str, *, now: datetime) -> QuestionRow | None:
    return await db.one(_RESTORE, question_id=question_id, now=now)


async def used_in_session(db: Connection, question_id: str) -> bool:
    return bool(await db.scalar(_USED, question_id=question_id))


async def hard_delete_deleted(db: Connection, question_id: str) -> bool:
    """Remove a soft-deleted question for good; False when it is not (or no longer) deleted."""
    return await db.run(_HARD_DELETE, question_id=question_id) == 1
