"""HTTP routes of /api/questions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from peerview.context import Admin, AnyUser, CheckedRoute
from peerview.errors import Forbidden
from peerview.models.enums import Difficulty, QuestionType
from peerview.openapi import answers
from peerview.pagination import DEFAULT_LIMIT, Cursor, InvalidCursor, Limit
from peerview.questions import service
from peerview.questions.errors import HardDeleteGuarded, QuestionNotDeleted, QuestionNotFound
from peerview.questions.schemas import (
    QUESTION_IMPORT_MAX_ITEMS,
    QuestionCreate,
    QuestionImport,
    QuestionImportResult,
    QuestionPage,
    QuestionRead,
    QuestionUpdate,
    QuestionView,
)
from peerview.schemas import respond

router = APIRouter(prefix="/api/questions", tags=["questions"], route_class=CheckedRoute)

ROLE_VIEWS = (
    "Interviewers and admins get `QuestionRead`; interviewees get `QuestionPublicRead`, "
    "which has no `hints` and no `solution`."
)


async def _deleted_visibility(
    ctx: AnyUser,
    include_deleted: Annotated[
        bool,
        Query(description="Admins only: list soft-deleted questions too (403 for anyone else)."),
    ] = False,
) -> bool:
    # A dependency, so that a non-admin asking for deleted rows is refused (403)
    # before the rest of the query string is validated (422), as docs/api.md §1 orders them.
    service.check_may_include_deleted(ctx.actor, include_deleted)
    return include_deleted


@router.get(
    "",
    **answers(QuestionPage, Forbidden, InvalidCursor),
    summary="List questions of the bank",
    description=(
        "Questions not deleted, oldest first. Filters combine with AND; `category` and `tag` "
        "are compared lower-case, `q` is a case-insensitive substring of the title or prompt. "
        + ROLE_VIEWS
    ),
)
async def list_questions(
    ctx: AnyUser,
    include_deleted: Annotated[bool, Depends(_deleted_visibility)],
    category: Annotated[str | None, Query(max_length=64)] = None,
    difficulty: Annotated[Difficulty | None, Query()] = None,
    type: Annotated[QuestionType | None, Query()] = None,
    tag: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Text searched in title and prompt.")
    ] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> Response:
    page = await service.list_questions(
        ctx,
        category=category,
        difficulty=difficulty,
        type=type,
        tag=tag,
        text=q,
        include_deleted=include_deleted,
        cursor=cursor,
        limit=limit,
    )
    return respond(page)


@router.post("", **answers(QuestionRead, status=201), summary="Add a question to the bank (admin)")
async def create_question(body: QuestionCreate, ctx: Admin) -> Response:
    return respond(await service.create(ctx, body=body), 201)


@router.post(
    "/import",
    **answers(
        QuestionImportResult,
        status=201,
        description="At least one question was created",
        also={200: "Every item was skipped: nothing was created"},
    ),
    summary="Import a list of questions into the bank (admin)",
    description=(
        f"A JSON list of 1 to {QUESTION_IMPORT_MAX_ITEMS} question bodies, each as for "
        "`POST /api/questions`, written in one transaction: if any item is invalid, nothing is "
        "written and the 422 names the item by its index from 0 (`3.difficulty`). An item "
        "whose title (without regard to case or runs of white space) and category match a "
        "question of the bank, soft-deleted ones included, or an earlier item of the list, is "
        "skipped. The answer lists every item in order, created (with the new id) or skipped "
        "(with the id of the question it duplicates): 201 when at least one was created, 200 "
        "when all were skipped. Counts as one write for the write limit."
    ),
)
async def import_questions(body: QuestionImport, ctx: Admin) -> Response:
    result = await service.import_questions(
        db=ctx.db, now=ctx.now, created_by_id=ctx.actor.id, items=body
    )
    return respond(result, 201 if result.created else 200)


@router.get(
    "/{question_id}",
    **answers(QuestionView, QuestionNotFound),
    summary="A question",
    description="A soft-deleted question is 404 for everyone but admins. " + ROLE_VIEWS,
)
async def get_question(question_id: str, ctx: AnyUser) -> Response:
    return respond(await service.get(ctx, question_id=question_id))


@router.put(
    "/{question_id}",
    **answers(QuestionRead, QuestionNotFound),
    summary="Replace a question's editable fields (admin)",
    description="Omitted optional fields (`tags`, `hints`, `solution`) are reset to empty. "
    "A soft-deleted question cannot be edited (404); restore it first.",
)
async def replace_question(question_id: str, body: QuestionUpdate, ctx: Admin) -> Response:
    return respond(await service.replace(ctx, question_id=question_id, body=body))


@router.delete(
    "/{question_id}",
    response_class=Response,
    **answers(None, QuestionNotFound, HardDeleteGuarded, status=204, description="Deleted"),
    summary="Delete a question (admin)",
    description=(
        "Without `hard`, a soft delete: the question disappears from the bank but sessions "
        "keep it; deleting it again is 404. With `hard=true`, a permanent delete, allowed only "
        "for a question already soft-deleted and never used in a session "
        "(otherwise 409 `HARD_DELETE_GUARDED`)."
    ),
)
async def delete_question(
    question_id: str,
    ctx: Admin,
    hard: Annotated[bool, Query(description="Delete permanently.")] = False,
) -> Response:
    if hard:
        await service.hard_delete(ctx, question_id=question_id)
    else:
        await service.soft_delete(ctx, question_id=question_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{question_id}/restore",
    **answers(QuestionRead, QuestionNotFound, QuestionNotDeleted),
    summary="Undo a soft delete (admin)",
    description="409 `QUESTION_NOT_DELETED` when the question is not deleted.",
)
async def restore_question(question_id: str, ctx: Admin) -> Response:
    return respond(await service.restore(ctx, question_id=question_id))
