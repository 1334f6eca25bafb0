"""The feedback of a practice session (docs/api.md §13.4): the model's grading, its pointers
checked against what was said and written, or the built-in interviewer's measured feedback.

Stored as `{ratings, comments: [{text, message_seq, code_line, excerpt}], basis}`.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field, ValidationError

from peerview.models.enums import PracticeEngine
from peerview.practice import builtin, prompts
from peerview.practice.facts import Facts
from peerview.practice.llm import ChatClient, LLMError, estimate_prompt_tokens

logger = logging.getLogger(__name__)

GRADING_REPLY_TOKENS = 900


class _Rated(BaseModel):
    communication: int = Field(ge=1, le=5, strict=True)
    problem_solving: int = Field(ge=1, le=5, strict=True)
    technical: int = Field(ge=1, le=5, strict=True)
    overall: int = Field(ge=1, le=5, strict=True)


class _Remark(BaseModel):
    text: str = Field(min_length=1, max_length=2000)
    message_seq: int | None = None
    code_line: int | None = None
    excerpt: str | None = None


class _Graded(BaseModel):
    ratings: _Rated
    comments: list[_Remark] = Field(min_length=1, max_length=8)


def measured(facts: Facts, ended_at: datetime) -> dict[str, Any]:
    """The built-in interviewer's feedback: what it can count, labelled as such."""
    draft = builtin.measured_feedback(
        question_type=facts.session.type,
        messages=facts.said,
        question_revealed_at=facts.practice.question_revealed_at,
        ended_at=ended_at,
        hints_used=facts.practice.hints_given,
        hints_total=facts.practice.hints_total,
        code_text=facts.code,
    )
    return {
        "ratings": dict(draft.ratings),
        "comments": [
            {
                "text": c.text,
                "message_seq": c.message_seq,
                "code_line": c.code_line,
                "excerpt": c.excerpt,
            }
            for c in draft.comments
        ],
        "basis": draft.basis,
    }


async def by_model(
    client: ChatClient | None, *, model: str, facts: Facts
) -> tuple[dict[str, Any] | None, int]:
    """The model's feedback and the tokens its call spent; no feedback (None) when the
    measured one must do: no model, a session handed over to the built-in interviewer, a
    budget too low for the grading, or a grading that failed or could not be read."""
    if client is None or facts.practice.engine is not PracticeEngine.MODEL:
        return None, 0
    messages = prompts.grading(
        title=facts.question.title,
        prompt=facts.question.prompt,
        question_type=facts.session.type.value,
        solution=facts.question.solution,
        transcript=facts.said,
        code=facts.code,
        hints_used=facts.practice.hints_given,
        hints_total=facts.practice.hints_total,
    )
    remaining = facts.practice.token_budget - facts.practice.tokens_used
    if remaining - estimate_prompt_tokens(messages) < GRADING_REPLY_TOKENS:
        return None, 0
    try:
        completion = await client.complete(
            messages, max_tokens=GRADING_REPLY_TOKENS, json_object=True
        )
    except LLMError as exc:
        logger.warning("practice %s: grading failed (%s)", facts.session.id, exc.reason)
        return None, 0
    spent = min(completion.total_tokens, remaining)
    graded = _parse(completion.text)
    if graded is None:
        logger.warning("practice %s: the grading could not be read", facts.session.id)
        return None, spent
    return _pointed(graded, facts, model), spent


def _parse(text: str) -> _Graded | None:
    body = text.strip()
    if body.startswith("```"):
        body = body.strip("`")
        body = body[body.find("{") :] if "{" in body else body
    start, end = body.find("{"), body.rfind("}")
    if start < 0 or end < start:
        return None
    try:
        return _Graded.model_validate(json.loads(body[start : end + 1]))
    except (ValueError, ValidationError):
        return None


def _pointed(graded: _Graded, facts: Facts, model: str) -> dict[str, Any]:
    """The model's feedback with every pointer checked: a message number must be one of the
    interviewee's messages, a code line one of the code pad's, an excerpt an exact quote of
    what it points at (else it is dropped)."""
    said = {m.seq: m.text for m in facts.transcript if m.role == "candidate"}
    lines = (facts.code or "").split("\n")
    comments = []
    for remark in graded.comments:
        seq = remark.message_seq if remark.message_seq in said else None
        line = (
            remark.code_line
            if remark.code_line is not None and 1 <= remark.code_line <= len(lines)
            else None
        )
        excerpt = remark.excerpt.strip() if remark.excerpt else None
        quoted = (seq is not None and excerpt and excerpt in said[seq]) or (
            line is not None and excerpt and excerpt in lines[line - 1]
        )
        comments.append(
            {
                "text": remark.text,
                "message_seq": seq,
                "code_line": line,
                "excerpt": excerpt[:200] if quoted and excerpt else None,
            }
        )
    return {
        "ratings": graded.ratings.model_dump(),
        "comments": comments,
        "basis": (
            f"Written by the language model {model} from the transcript, the "
            "code pad and the question's reference solution."
        ),
    }
