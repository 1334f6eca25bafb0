"""The AI interviewer at work (docs/api.md §13.3, §13.4): one per process.

- `take_message` stores what the interviewee says (one reply at a time per session, claimed in
  the database so it holds across processes) and starts the reply in the background, so the
  socket that sent it is free at once.
- A reply is a hint from the question when one is asked for; otherwise the model's answer,
  streamed to the interviewee's sockets as `practice_delta`s, or the built-in interviewer's.
  The model that converses is sent the prompt of `peerview.practice.prompts.conversation`,
  which never holds the solution. A model that fails (after its client's retries) or a spent
  token budget hands the session to the built-in interviewer for good, and the transcript
  says so.
- When the session ends (by its interviewee, or by time), the interviewer closes and writes
  the feedback: the model's grading when it can, else the built-in measured feedback.
- `tick`, every PRACTICE_TICK_SECONDS, warns the sessions five minutes from their planned end
  and writes the feedback of ended sessions that have none (their process died mid-way, or
  the sweeper wrote down their hard end).

Every stored message is pushed to the interviewee's sockets as `practice_message` after its
commit; every write is a conditional update, so two processes never do one thing twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from peerview.actor import Actor
from peerview.clock import Clock
from peerview.codepad import service as codepad_service
from peerview.config import Settings
from peerview.db import Connection, Database
from peerview.events import SessionChanged
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.errors import InvalidSessionState, SessionNotFound
from peerview.interview_sessions.lifecycle import TimeRules, session_at, time_rules
from peerview.interview_sessions.repository import QuestionRow, SessionRow
from peerview.models.base import new_id
from peerview.models.enums import EndReason, PracticeEngine, QuestionType, SessionStatus
from peerview.practice import builtin, prompts, repository
from peerview.practice.errors import ReplyInProgress
from peerview.practice.llm import ChatClient, ChatMessage, LLMConfig, LLMError, estimate_tokens
from peerview.practice.repository import MessageRow, PracticeRow
from peerview.practice.schemas import PracticeMessageRead
from peerview.practice.service import feedback_read, message_read
from peerview.schemas import to_builtins

logger = logging.getLogger(__name__)

# (event, payload, user id): a push to every socket of that user, in every process.
Push = Callable[[str, dict[str, Any], str], Awaitable[None]]

WARN_BEFORE = timedelta(minutes=5)
# A reply or a grading claimed this long ago by a process that never finished it is void.
REPLY_STALE = timedelta(minutes=2)
GRADING_STALE = timedelta(minutes=5)
# The least a model reply may be given; below it the budget counts as spent.
MIN_REPLY_TOKENS = 32
GRADING_REPLY_TOKENS = 900
TICK_BATCH = 50


@dataclass(frozen=True, slots=True)
class Facts:
    """What a reply is made from, read in one transaction."""

    session: SessionRow
    practice: PracticeRow
    question: QuestionRow
    transcript: list[MessageRow]
    code: str | None

    @property
    def said(self) -> list[builtin.Said]:
        return [
            builtin.Said(seq=m.seq, role=m.role, kind=m.kind, text=m.text, at=m.created_at)  # type: ignore[arg-type]
            for m in self.transcript
        ]


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


class Interviewer:
    def __init__(
        self,
        *,
        settings: Settings,
        database: Database,
        clock: Clock,
        push: Push,
        client: ChatClient | None = None,
    ) -> None:
        self.settings = settings
        self.database = database
        self.clock = clock
        self.push = push
        self.rules: TimeRules = time_rules(settings)
        if client is None and settings.llm_base_url:
            client = ChatClient(
                LLMConfig(
                    base_url=settings.llm_base_url,
                    model=settings.llm_model,
                    api_key=settings.llm_api_key,
                    read_timeout_seconds=settings.llm_timeout_seconds,
                    max_retries=settings.llm_max_retries,
                )
            )
        self.client = client
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None

    # -- lifetime -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._run(), name="peerview-practice")

    async def stop(self) -> None:
        tasks = [t for t in (self._loop_task, *self._tasks) if t is not None]
        self._loop_task = None
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        if self.client is not None:
            await self.client.aclose()

    async def idle(self) -> None:
        """Wait until every reply and grading started so far is done (tests, shutdown)."""
        while self._tasks:
            await asyncio.wait(list(self._tasks))

    def _spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(work, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self) -> None:
        while True:
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("practice tick failed; retrying at the next one")
            await asyncio.sleep(self.settings.practice_tick_seconds)

    # -- events -------------------------------------------------------------------------------

    async def after_commit(self, event: Any) -> None:
        """A practice session that ended (by its interviewee, or written down by the sweeper)
        gets its closing and its feedback."""
        if isinstance(event, SessionChanged) and event.practice and event.event == "ended":
            self._spawn(self.finish(event.session_id), name="peerview-practice-finish")

    async def take_message(
        self, *, actor: Actor, session_id: str, text: str, hint: bool
    ) -> PracticeMessageRead:
        """Store the interviewee's message and start the reply; the message as stored."""
        now = self.clock.now()
        wants_hint = hint or builtin.is_hint_request(text)
        async with self.database.transaction() as db:
            row = await sessions_service.load_visible(
                db=db, actor=actor, session_id=session_id, admin_may_see=False
            )
            if not row.practice:
                raise SessionNotFound()
            state = session_at(sessions_service.times_of(row), now, self.rules)
            if state.status is not SessionStatus.LIVE:
                raise InvalidSessionState(f"The session is {state.status.value}")
            claimed = await repository.claim_reply(
                db, session_id=session_id, now=now, stale=now - REPLY_STALE
            )
            if not claimed:
                raise ReplyInProgress()
            stored = await repository.append_message(
                db,
                id=new_id(),
                session_id=session_id,
                role="candidate",
                kind="message",
                text=text,
                source=None,
                tokens=0,
                created_at=now,
            )
            if not wants_hint:
                await repository.answered(db, session_id=session_id, now=now)
        await self._push_message(actor.id, stored)
        self._spawn(
            self._reply(session_id, actor.id, wants_hint=wants_hint), name="peerview-practice"
        )
        return message_read(stored)

    # -- replies ------------------------------------------------------------------------------

    async def _reply(self, session_id: str, user_id: str, *, wants_hint: bool) -> None:
        try:
            facts = await self._facts(session_id)
            if facts is None:
                return
            now = self.clock.now()
            if session_at(sessions_service.times_of(facts.session), now, self.rules).status is not (
                SessionStatus.LIVE
            ):
                return
            await self._warn_if_due(facts, now)
            if wants_hint:
                await self._hint(facts)
            elif not (
                facts.practice.engine is PracticeEngine.MODEL and await self._model_reply(facts)
            ):
                await self._builtin_reply(facts)
        except Exception:
            logger.exception("practice reply failed (session %s)", session_id)
        finally:
            try:
                async with self.database.transaction() as db:
                    await repository.release_reply(db, session_id=session_id)
            except Exception:
                logger.exception("practice reply: could not release session %s", session_id)

    async def _facts(self, session_id: str) -> Facts | None:
        async with self.database.transaction(write=False) as db:
            return await _read_facts(db, session_id)

    async def _store(
        self,
        facts: Facts,
        *,
        role: Literal["interviewer", "candidate", "notice"],
        kind: str,
        text: str,
        source: PracticeEngine | None,
        tokens: int = 0,
        message_id: str | None = None,
        also: Callable[[Connection], Awaitable[bool]] | None = None,
    ) -> MessageRow | None:
        """Store one message (after `also`, which may refuse: then nothing is stored) and push
        it once committed."""
        now = self.clock.now()
        async with self.database.transaction() as db:
            if also is not None and not await also(db):
                return None
            if tokens:
                await repository.spend(db, session_id=facts.session.id, tokens=tokens)
            stored = await repository.append_message(
                db,
                id=message_id or new_id(),
                session_id=facts.session.id,
                role=role,
                kind=kind,
                text=text,
                source=source,
                tokens=tokens,
                created_at=now,
            )
        await self._push_message(facts.practice.interviewee_id, stored)
        return stored

    async def _push_message(self, user_id: str, row: MessageRow) -> None:
        payload = {"session_id": row.session_id, "message": to_builtins(message_read(row))}
        await self.push("practice_message", payload, user_id)

    async def _warn_if_due(self, facts: Facts, now: datetime) -> None:
        planned = facts.session.planned_end_at
        if facts.practice.warned_at is not None or planned is None or planned - WARN_BEFORE > now:
            return
        await self._warn(facts, now)

    async def _warn(self, facts: Facts, now: datetime) -> None:
        planned = facts.session.planned_end_at
        assert planned is not None
        minutes_left = max(0, math.ceil((planned - now).total_seconds() / 60))

        async def claim(db: Connection) -> bool:
            return await repository.warn(db, session_id=facts.session.id, now=now)

        await self._store(
            facts,
            role="interviewer",
            kind="warning",
            text=builtin.five_minute_warning(minutes_left=minutes_left),
            source=PracticeEngine.BUILTIN,
            also=claim,
        )

    async def _hint(self, facts: Facts) -> None:
        hints = list(facts.question.hints)
        given = facts.practice.hints_given
        if given >= len(hints):
            await self._store(
                facts,
                role="interviewer",
                kind="hint",
                text=builtin.no_more_hints(total=len(hints)),
                source=PracticeEngine.BUILTIN,
            )
            return

        async def count(db: Connection) -> bool:
            return await repository.next_hint(db, session_id=facts.session.id, given=given)

        await self._store(
            facts,
            role="interviewer",
            kind="hint",
            text=builtin.hint_text(number=given + 1, total=len(hints), hint=hints[given]),
            source=PracticeEngine.BUILTIN,
            also=count,
        )

    async def _builtin_reply(self, facts: Facts) -> None:
        last = next((m.text for m in reversed(facts.transcript) if m.role == "candidate"), "")

        async def count(db: Connection) -> bool:
            await repository.followed_up(db, session_id=facts.session.id)
            return True

        await self._store(
            facts,
            role="interviewer",
            kind="reply",
            text=builtin.follow_up(
                question_type=facts.session.type,
                given=facts.practice.follow_ups_given,
                candidate_text=last,
                code_text=facts.code,
            ),
            source=PracticeEngine.BUILTIN,
            also=count,
        )

    async def _fall_back(
        self, facts: Facts, reason: Literal["model_failed", "budget_spent"]
    ) -> None:
        async def switch(db: Connection) -> bool:
            return await repository.fall_back(db, session_id=facts.session.id, reason=reason)

        await self._store(
            facts,
            role="notice",
            kind="notice",
            text=builtin.fallback_notice(reason=reason),
            source=None,
            also=switch,
        )

    def _minutes_left(self, facts: Facts) -> int:
        planned = facts.session.planned_end_at
        if planned is None:
            return 0
        return max(0, math.ceil((planned - self.clock.now()).total_seconds() / 60))

    async def _model_reply(self, facts: Facts) -> bool:
        """The model's reply, streamed; False when the built-in interviewer must answer."""
        if self.client is None:
            await self._fall_back(facts, "model_failed")
            return False
        hints = list(facts.question.hints)[: facts.practice.hints_given]
        messages = prompts.conversation(
            title=facts.question.title,
            prompt=facts.question.prompt,
            question_type=facts.session.type.value,
            hints_given=hints,
            minutes_left=self._minutes_left(facts),
            transcript=facts.said,
            code=facts.code,
        )
        prompt_tokens = _prompt_tokens(messages)
        remaining = facts.practice.token_budget - facts.practice.tokens_used
        if remaining - prompt_tokens < MIN_REPLY_TOKENS:
            await self._fall_back(facts, "budget_spent")
            return False
        reply_id = new_id()
        session_id, user_id = facts.session.id, facts.practice.interviewee_id

        async def on_delta(text: str) -> None:
            payload = {"session_id": session_id, "reply_id": reply_id, "text": text}
            await self.push("practice_delta", payload, user_id)

        try:
            completion = await self.client.stream(
                messages,
                max_tokens=min(self.settings.ai_max_reply_tokens, remaining - prompt_tokens),
                on_delta=on_delta,
            )
        except LLMError as exc:
            logger.warning("practice %s: the model failed (%s)", session_id, exc.reason)
            await self._fall_back(facts, "model_failed")
            return False
        await self._store(
            facts,
            role="interviewer",
            kind="reply",
            text=completion.text,
            source=PracticeEngine.MODEL,
            tokens=min(completion.total_tokens, remaining),
            message_id=reply_id,
        )
        return True

    # -- the end ------------------------------------------------------------------------------

    async def finish(self, session_id: str) -> None:
        """Close an ended practice session and store its feedback, once."""
        now = self.clock.now()
        try:
            async with self.database.transaction() as db:
                claimed = await repository.claim_grading(
                    db, session_id=session_id, now=now, stale=now - GRADING_STALE
                )
            if not claimed:
                return
            facts = await self._facts(session_id)
            if facts is None:
                return
            state = session_at(sessions_service.times_of(facts.session), now, self.rules)
            if state.status is not SessionStatus.COMPLETED:
                return
            if facts.practice.closed_at is None:

                async def close(db: Connection) -> bool:
                    return await repository.close(db, session_id=session_id, now=now)

                await self._store(
                    facts,
                    role="interviewer",
                    kind="closing",
                    text=builtin.closing(ended_by_time=state.end_reason is EndReason.AUTO_TIMEOUT),
                    source=PracticeEngine.BUILTIN,
                    also=close,
                )
            facts = await self._facts(session_id) or facts
            ended_at = state.ended_at or now
            source, feedback, tokens = await self._grade(facts)
            if feedback is None:
                source, feedback = PracticeEngine.BUILTIN, self._measured(facts, ended_at)
            async with self.database.transaction() as db:
                if tokens:
                    await repository.spend(db, session_id=session_id, tokens=tokens)
                stored = await repository.store_feedback(
                    db,
                    session_id=session_id,
                    now=self.clock.now(),
                    source=source,
                    feedback=feedback,
                )
                row = await repository.get(db, session_id) if stored else None
            if row is not None:
                read = feedback_read(row)
                payload = {"session_id": session_id, "feedback": to_builtins(read)}
                await self.push("practice_feedback", payload, row.interviewee_id)
        except Exception:
            logger.exception("practice feedback failed (session %s)", session_id)

    def _measured(self, facts: Facts, ended_at: datetime) -> dict[str, Any]:
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

    async def _grade(self, facts: Facts) -> tuple[PracticeEngine, dict[str, Any] | None, int]:
        """The model's feedback (source, feedback, tokens spent), or None for the measured one:
        no model, a session that fell back to the built-in interviewer, a spent budget, or a
        grading that failed or could not be read."""
        if self.client is None or facts.practice.engine is not PracticeEngine.MODEL:
            return PracticeEngine.BUILTIN, None, 0
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
        if remaining - _prompt_tokens(messages) < GRADING_REPLY_TOKENS:
            return PracticeEngine.BUILTIN, None, 0
        try:
            completion = await self.client.complete(
                messages, max_tokens=GRADING_REPLY_TOKENS, json_object=True
            )
        except LLMError as exc:
            logger.warning("practice %s: grading failed (%s)", facts.session.id, exc.reason)
            return PracticeEngine.BUILTIN, None, 0
        spent = min(completion.total_tokens, remaining)
        graded = _parse_grading(completion.text)
        if graded is None:
            logger.warning("practice %s: the grading could not be read", facts.session.id)
            return PracticeEngine.BUILTIN, None, spent
        return PracticeEngine.MODEL, _pointed(graded, facts, self.settings.llm_model), spent

    # -- time ---------------------------------------------------------------------------------

    async def tick(self) -> None:
        """Warn the sessions due a warning, and finish ended sessions without feedback."""
        now = self.clock.now()
        async with self.database.transaction(write=False) as db:
            due = await repository.due_warnings(
                db, now=now, warn_before=now + WARN_BEFORE, batch=TICK_BATCH
            )
            ended = await repository.due_grading(
                db, now=now, stale=now - GRADING_STALE, batch=TICK_BATCH
            )
        for session_id in due:
            facts = await self._facts(session_id)
            if facts is not None and facts.practice.warned_at is None:
                await self._warn(facts, now)
        for session_id in ended:
            await self.finish(session_id)


async def _read_facts(db: Connection, session_id: str) -> Facts | None:
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


def _prompt_tokens(messages: list[ChatMessage]) -> int:
    return sum(estimate_tokens(m.content) + 4 for m in messages)


def _parse_grading(text: str) -> _Graded | None:
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
