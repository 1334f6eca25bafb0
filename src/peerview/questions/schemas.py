"""Question shapes: the full `question` for interviewers and admins, a public one without."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Literal

import msgspec
from pydantic import Field, StringConstraints, field_validator

from peerview.models.enums import Difficulty, QuestionType
from peerview.schemas import InputModel, Output, one_of

Tag = Annotated[
    str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1, max_length=40)
]
Hint = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000)]
SeedKey = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class QuestionCreate(InputModel):
    title: str = Field(min_length=1, max_length=200)
    prompt: str = Field(min_length=1, max_length=10_000)
    category: str = Field(
        min_length=1, max_length=64, description="Free text, stored lower-case (e.g. `graphs`)."
    )
    difficulty: Difficulty
    type: QuestionType
    tags: list[Tag] = Field(
        default_factory=list,
        max_length=20,
        description="Up to 20 tags of 1 to 40 characters, stored lower-case without duplicates.",
    )
    hints: list[Hint] = Field(default_factory=list, max_length=20)
    solution: str = Field(default="", max_length=20_000)

    @field_validator("category")
    @classmethod
    def _lower_category(cls, value: str) -> str:
        return value.lower()

    @field_validator("tags")
    @classmethod
    def _unique_tags(cls, value: list[str]) -> list[str]:
        # A tag given twice would only make the tag filter match the same row twice over.
        return list(dict.fromkeys(value))


class QuestionUpdate(QuestionCreate):
    """PUT replaces every editable field: an omitted optional field goes back to its default."""


# An import is one transaction and one write for the write limit: bounded so that it stays a
# short one (500 questions of a usual size are far below the 1 MiB body limit).
QUESTION_IMPORT_MAX_ITEMS = 500

QuestionImport = Annotated[
    list[QuestionCreate],
    Field(
        min_length=1,
        max_length=QUESTION_IMPORT_MAX_ITEMS,
        description=(
            f"1 to {QUESTION_IMPORT_MAX_ITEMS} question bodies, each as for `POST /api/questions`. "
            "A 422 names the item by its index from 0, as in `3.difficulty`."
        ),
    ),
]


class StarterQuestion(QuestionCreate):
    """An entry of the starter bank shipped with Peerview; `seed_key` makes seeding idempotent."""

    seed_key: SeedKey


class QuestionPublicRead(Output):
    """A question as an interviewee sees it: without hints and solution."""

    id: str
    title: str
    prompt: str
    category: str
    difficulty: Difficulty
    type: QuestionType
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class QuestionRead(Output):
    """A question as interviewers and admins see it."""

    id: str
    title: str
    prompt: str
    category: str
    difficulty: Difficulty
    type: QuestionType
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    hints: list[str]
    solution: str


# What a caller sees of a question depends on their role.
if TYPE_CHECKING:
    QuestionView = QuestionRead | QuestionPublicRead
else:
    QuestionView = one_of(QuestionRead, QuestionPublicRead)


class QuestionPage(Output):
    items: list[QuestionView]
    next_cursor: str | None


ImportOutcome = Literal["created", "skipped"]
# Why an item was skipped: a question of the bank has its title and category (`exists`), a
# soft-deleted one has (`exists_deleted`: restore it to bring it back), or an item created
# earlier in the same list has (`repeated`).
SkipReason = Literal["exists", "exists_deleted", "repeated"]


class QuestionImportItem(Output):
    """What became of one item of an import; the items come in the order they were sent."""

    index: Annotated[int, msgspec.Meta(description="The item's position in the list, from 0.")]
    outcome: ImportOutcome
    id: Annotated[
        str,
        msgspec.Meta(
            description="The question created, or for a skipped item the question it duplicates."
        ),
    ]
    title: str
    category: str
    reason: Annotated[
        SkipReason | None,
        msgspec.Meta(
            description=(
                "Null when created. `exists`: a question of the bank has this title and "
                "category; `exists_deleted`: a soft-deleted one has (restore it to bring it "
                "back); `repeated`: an item created earlier in the same list has."
            )
        ),
    ]


class QuestionImportResult(Output):
    """The outcome of an import: how many questions were created and skipped, item by item."""

    created: int
    skipped: int
    items: list[QuestionImportItem]
