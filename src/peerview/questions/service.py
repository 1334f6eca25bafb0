"""Question bank: who sees which fields and which rows, edits, imports, soft and hard deletion."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from peerview.actor import Actor
from peerview.context import Ctx
from peerview.db import Connection, IntegrityError
from peerview.models.base import new_id
from peerview.models.enums import Difficulty, QuestionType, Role
from peerview.pagination import decode_cursor, page_of
from peerview.questions import repository
from peerview.questions.errors import (
    DeletedQuestionsForbidden,
    HardDeleteGuarded,
    QuestionNotDeleted,
    QuestionNotFound,
)
from peerview.questions.repository import QuestionRow, TitledQuestion
from peerview.questions.schemas import (
    QuestionCreate,
    QuestionImportItem,
    QuestionImportResult,
    QuestionPage,
    QuestionPublicRead,
    QuestionRead,
    QuestionUpdate,
    SkipReason,
    StarterQuestion,
)

# Hints and solutions would spoil the interview for the person being interviewed.
SEES_ANSWERS = frozenset({Role.INTERVIEWER, Role.ADMIN})


def full(row: QuestionRow) -> QuestionRead:
    return QuestionRead(
        id=row.id,
        title=row.title,
        prompt=row.prompt,
        category=row.category,
        difficulty=row.difficulty,
        type=row.type,
        tags=list(row.tags),
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
        hints=list(row.hints),
        solution=row.solution,
    )


def view_for(actor: Actor, row: QuestionRow) -> QuestionRead | QuestionPublicRead:
    if actor.role in SEES_ANSWERS:
        return full(row)
    return QuestionPublicRead(
        id=row.id,
        title=row.title,
        prompt=row.prompt,
        category=row.category,
        difficulty=row.difficulty,
        type=row.type,
        tags=list(row.tags),
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )


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
    ctx: Ctx,
    *,
    category: str | None,
    difficulty: Difficulty | None,
    type: QuestionType | None,
    tag: str | None,
    text: str | None,
    include_deleted: bool,
    cursor: str | None,
    limit: int,
) -> QuestionPage:
    check_may_include_deleted(ctx.actor, include_deleted)
    rows = await repository.list_questions(
        ctx.db,
        category=category.strip().lower() if category else None,
        difficulty=difficulty.value if difficulty else None,
        type=type.value if type else None,
        tag=tag.strip().lower() if tag else None,
        text=text or None,
        include_deleted=include_deleted,
        cursor=decode_cursor(cursor, datetime, str),
        limit=limit,
    )
    page = page_of([view_for(ctx.actor, r) for r in rows], limit, lambda q: (q.created_at, q.id))
    return QuestionPage(items=page.items, next_cursor=page.next_cursor)


async def get(ctx: Ctx, *, question_id: str) -> QuestionRead | QuestionPublicRead:
    row = await repository.get(ctx.db, question_id, include_deleted=ctx.actor.is_admin)
    if row is None:
        raise QuestionNotFound()
    return view_for(ctx.actor, row)


async def create(ctx: Ctx, *, body: QuestionCreate) -> QuestionRead:
    row = await repository.insert_question(
        ctx.db,
        id=new_id(),
        **_editable(body),
        created_by_id=ctx.actor.id,
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    return full(row)


def import_key(title: str, category: str) -> tuple[str, str]:
    """What makes an imported item the same question as another: its title without regard to
    case (Unicode case folding) or to runs of white space, and its category as every filter
    compares it (trimmed and lower case, as it is stored)."""
    return " ".join(title.split()).casefold(), category


async def import_questions(
    *,
    db: Connection,
    now: datetime,
    created_by_id: str | None,
    items: Sequence[QuestionCreate],
) -> QuestionImportResult:
    """Add the items whose title and category the bank does not hold yet, all in the caller's
    transaction. An item the bank holds (soft-deleted or not) is skipped and points at that
    question; one repeating an item created earlier in the list points at that item's. For
    the API and the CLI alike (docs/api.md §6.1)."""
    await repository.lock_imports(db)
    categories = sorted({item.category for item in items})
    banked: dict[tuple[str, str], TitledQuestion] = {}
    for row in await repository.titled_in_categories(db, categories):
        key = import_key(row.title, row.category)
        held = banked.get(key)
        # Point at a question still in the bank before a deleted one; else at the oldest.
        if held is None or (held.deleted_at is not None and row.deleted_at is None):
            banked[key] = row
    created_here: dict[tuple[str, str], str] = {}
    outcomes: list[QuestionImportItem] = []
    new_rows: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        key = import_key(item.title, item.category)
        existing = banked.get(key)
        created = created_here.get(key)
        if existing is not None:
            reason: SkipReason = "exists" if existing.deleted_at is None else "exists_deleted"
            outcome = _skipped(index, item, existing.id, reason)
        elif created is not None:
            outcome = _skipped(index, item, created, "repeated")
        else:
            question_id = new_id()
            new_rows.append(
                {
                    "id": question_id,
                    **_editable(item),
                    "created_by_id": created_by_id,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            outcome = QuestionImportItem(
                index=index,
                outcome="created",
                id=question_id,
                title=item.title,
                category=item.category,
                reason=None,
            )
            created_here[key] = question_id
        outcomes.append(outcome)
    await repository.insert_questions(db, new_rows)
    return QuestionImportResult(
        created=len(new_rows), skipped=len(outcomes) - len(new_rows), items=outcomes
    )


def _skipped(
    index: int, item: QuestionCreate, duplicate_id: str, reason: SkipReason
) -> QuestionImportItem:
    return QuestionImportItem(
        index=index,
        outcome="skipped",
        id=duplicate_id,
        title=item.title,
        category=item.category,
        reason=reason,
    )


async def replace(ctx: Ctx, *, question_id: str, body: QuestionUpdate) -> QuestionRead:
    row = await repository.replace_active(
        ctx.db, question_id, **_editable(body), updated_at=ctx.now
    )
    if row is None:
        raise QuestionNotFound()
    return full(row)


async def soft_delete(ctx: Ctx, *, question_id: str) -> None:
    if not await repository.soft_delete(ctx.db, question_id, now=ctx.now, by_id=ctx.actor.id):
        raise QuestionNotFound()


async def restore(ctx: Ctx, *, question_id: str) -> QuestionRead:
    row = await repository.restore(ctx.db, question_id, now=ctx.now)
    if row is not None:
        return full(row)
    if await repository.get(ctx.db, question_id, include_deleted=True) is None:
        raise QuestionNotFound()
    raise QuestionNotDeleted()


async def hard_delete(ctx: Ctx, *, question_id: str) -> None:
    db = ctx.db
    row = await repository.get(db, question_id, include_deleted=True)
    if row is None:
        raise QuestionNotFound()
    if row.deleted_at is None:
        raise HardDeleteGuarded("Soft-delete the question first")
    if await repository.used_in_session(db, question_id):
        raise HardDeleteGuarded("The question was used in a session; it stays soft-deleted")
    try:
        # The RESTRICT foreign key of session_questions is the backstop for a question
        # added to a session between the check above and this delete (the 409 rolls the
        # whole transaction back).
        deleted = await repository.hard_delete_deleted(db, question_id)
    except IntegrityError as exc:
        raise HardDeleteGuarded("The question was used in a session") from exc
    if not deleted:
        # Restored by someone else in the meantime.
        raise HardDeleteGuarded("Soft-delete the question first")


async def get_active(db: Connection, question_id: str) -> QuestionRow | None:
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
) -> list[QuestionRow]:
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
