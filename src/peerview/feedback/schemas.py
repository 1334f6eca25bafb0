"""Feedback shapes: what an author sends, the full feedback, and the sealed stand-in."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from peerview.schemas import InputModel, Output, UserRef, one_of

# Strict: 4.0, "4" and true are not ratings.
Rating = Annotated[int, Field(strict=True, ge=1, le=5, description="An integer from 1 to 5.")]


class AuthorRole(StrEnum):
    """The author's role in that session, whatever their account's role."""

    INTERVIEWER = "INTERVIEWER"
    INTERVIEWEE = "INTERVIEWEE"


class Ratings(InputModel):
    communication: Rating
    problem_solving: Rating
    technical: Rating
    overall: Rating


class FeedbackCreate(InputModel):
    session_id: str = Field(min_length=1, max_length=64)
    ratings: Ratings
    comments: str = Field(default="", max_length=5000)


class RatingsRead(Output):
    communication: int
    problem_solving: int
    technical: int
    overall: int


class FeedbackRead(Output):
    id: str
    session_id: str
    author: UserRef
    subject: UserRef
    author_role: AuthorRole
    ratings: RatingsRead
    comments: str
    created_at: datetime


class SealedFeedback(Output):
    """Feedback that exists but is not revealed to the viewer yet (double-blind)."""

    id: str
    author_role: AuthorRole
    hidden: Literal[True]


# Either shape, told apart by `hidden`.
if TYPE_CHECKING:
    FeedbackItem = FeedbackRead | SealedFeedback
else:
    FeedbackItem = one_of(FeedbackRead, SealedFeedback)


class FeedbackPage(Output):
    """Feedback items: each one in full, or `{"id", "author_role", "hidden": true}` while the
    double-blind seal holds for the viewer."""

    items: list[FeedbackItem]
    next_cursor: str | None
