"""HTTP routes of /api/questions."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response, status

from peerview.deps import DB, AdminUser, ClockDep, CurrentUser
from peerview.errors import Forbidden, InvalidToken, NotAuthenticated, problem_schema
from peerview.models.enums import Difficulty, QuestionType
from peerview.pagination import DEFAULT_LIMIT, Cursor, InvalidCursor, Limit, Page
from peerview.questions import service
from peerview.questions.errors import HardDeleteGuarded, QuestionNotDeleted, QuestionNotFound
from peerview.questions.schemas import (
    QuestionCreate,
    QuestionPublicRead,
    QuestionRead,
    QuestionUpdate,
)

router = APIRouter(prefix="/api/questions", tags=["questions"])

AUTH_ERRORS = (NotAuthenticated, InvalidToken)

ROLE_VIEWS = (
    "Interviewers and admins get `QuestionRead`; interviewees get `QuestionPublicRead`, "
    "which has no `hints` and no `solution`."
)


async def _deleted_visibility(
    actor: CurrentUser,
    include_deleted: Annotated[
        bool,
        Query(description="Admins only: list soft-deleted questions too (403 for anyone else)."),
    ] = False,
) -> bool:
    # A dependency, so that a non-admin asking for deleted rows is refused (403)
    # before the rest of the query string is validated (422), as SPEC §1 orders them.
    service.check_may_include_deleted(actor, include_deleted)
    return include_deleted


@router.get(
    "",
    response_model=Page[QuestionRead] | Page[QuestionPublicRead],
    responses=problem_schema(*AUTH_ERRORS, Forbidden, InvalidCursor),
    summary="List questions of the bank",
    description=(
        "Questions not deleted, oldest first. Filters combine with AND; `category` and `tag` "
        "are compared lower-case, `q` is a case-insensitive substring of the title or prompt. "
        + ROLE_VIEWS
    ),
)
async def list_questions(
    actor: CurrentUser,
    db: DB,
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
) -> Page[QuestionRead] | Page[QuestionPublicRead]:
    return await service.list_questions(
        db=db,
        actor=actor,
        category=category,
        difficulty=difficulty,
        type=type,
        tag=tag,
        text=q,
        include_deleted=include_deleted,
        cursor=cursor,
        limit=limit,
    )


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=QuestionRead,
    responses=problem_schema(*AUTH_ERRORS, Forbidden),
    summary="Add a question to the bank (admin)",
)
async def create_question(
    body: QuestionCreate, actor: AdminUser, db: DB, clock: ClockDep
) -> QuestionRead:
    return await service.create(db=db, now=clock.now(), actor=actor, body=body)


@router.get(
    "/{question_id}",
    response_model=QuestionRead | QuestionPublicRead,
    responses=problem_schema(*AUTH_ERRORS, QuestionNotFound),
    summary="A question",
    description="A soft-deleted question is 404 for everyone but admins. " + ROLE_VIEWS,
)
async def get_question(
    question_id: str, actor: CurrentUser, db: DB
) -> QuestionRead | QuestionPublicRead:
    return await service.get(db=db, actor=actor, question_id=question_id)


@router.put(
    "/{question_id}",
    response_model=QuestionRead,
    responses=problem_schema(*AUTH_ERRORS, Forbidden, QuestionNotFound),
    summary="Replace a question's editable fields (admin)",
    description="Omitted optional fields (`tags`, `hints`, `solution`) are reset to empty. "
    "A soft-deleted question cannot be edited (404); restore it first.",
)
async def replace_question(
    question_id: str, body: QuestionUpdate, _: AdminUser, db: DB, clock: ClockDep
) -> QuestionRead:
    return await service.replace(db=db, now=clock.now(), question_id=question_id, body=body)


@router.delete(
    "/{question_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problem_schema(*AUTH_ERRORS, Forbidden, QuestionNotFound, HardDeleteGuarded),
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
    actor: AdminUser,
    db: DB,
    clock: ClockDep,
    hard: Annotated[bool, Query(description="Delete permanently.")] = False,
) -> Response:
    if hard:
        await service.hard_delete(db=db, question_id=question_id)
    else:
        await service.soft_delete(db=db, now=clock.now(), actor=actor, question_id=question_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post(
    "/{question_id}/restore",
    response_model=QuestionRead,
    responses=problem_schema(*AUTH_ERRORS, Forbidden, QuestionNotFound, QuestionNotDeleted),
    summary="Undo a soft delete (admin)",
    description="409 `QUESTION_NOT_DELETED` when the question is not deleted.",
)
async def restore_question(question_id: str, _: AdminUser, db: DB, clock: ClockDep) -> QuestionRead:
    return await service.restore(db=db, now=clock.now(), question_id=question_id)
