"""What the AI interviewer reads of a practice session before it answers or grades."""

from __future__ import annotations

from dataclasses import dataclass

from peerview.codepad import service as codepad_service
from peerview.db import Connection
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.repository import QuestionRow, SessionRow
from peerview.models.enums import QuestionType
from peerview.practice import builtin, repository
from peerview.practice.repository import MessageRow, PracticeRow


@dataclass(frozen=True, slots=True)
class Facts:
    """A practice session, its state, its question, its transcript and its code, read in one
    transaction."""

    session: SessionRow
    practice: PracticeRow
    question: QuestionRow
    transcript: list[MessageRow]
    # The code pad's text; "" for an untouched pad of a CODING question, None for another
    # question's untouched pad (no code pad to speak of).
    code: str | None

    @property
    def said(self) -> list[builtin.Said]:
        return [
            builtin.Said(seq=m.seq, role=m.role, kind=m.kind, text=m.text, at=m.created_at)  # type: ignore[arg-type]
            for m in self.transcript
        ]


async def read(db: Connection, session_id: str) -> Facts | None:
    """The facts of a practice session; None for any other id."""
    found = await sessions_service.load_with_questions(db, session_id)
    practice = await repository.get(db, session_id)
    if found is None or practice is None or not found[1]:
        return None
    session, questions = found
    code = await codepad_service.text_of(db, session_id)
    if code is None and session.type is QuestionType.CODING:
        code = ""
    return Facts(
        session=session,
        practice=practice,
        question=questions[0],
        transcript=await repository.transcript(db, session_id),
        code=code,
    )
