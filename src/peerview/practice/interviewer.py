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
  the feedback (`peerview.practice.grading`): the model's grading when it can, else the
  built-in measured feedback.
- `tick`, every PRACTICE_TICK_SECONDS, warns the sessions five minutes from their planned end
  and writes the feedback of ended sessions that have none (their process died mid-way, or
  the sweeper wrote down their hard end).

Every stored message is pushed to the interviewee's sockets as `practice_message` after its
commit; every write is a conditional update, so two processes never do one thing twice.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal

import msgspec

from peerview.actor import Actor
from peerview.clock import Clock
from peerview.config import Settings
from peerview.db import Connection, Database
from peerview.events import SessionChanged
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.errors import SessionNotFound
from peerview.interview_sessions.lifecycle import TimeRules, session_at, time_rules
from peerview.models.base import new_id
from peerview.models.enums import EndReason, PracticeEngine, SessionStatus
from peerview.practice import builtin, grading, prompts, repository
from peerview.practice.errors import ReplyInProgress
from peerview.practice.facts import Facts
from peerview.practice.facts import read as facts_of
from peerview.practice.llm import ChatClient, LLMConfig, LLMError, estimate_prompt_tokens
from peerview.practice.repository import MessageRow
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
TICK_BATCH = 50


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
        """Store the interviewee's message and start the reply; the message as stored.

        The caller (the Socket.IO server) has judged the socket's token, its join and the
        session LIVE at this instant; what is left is whether the session is a practice
        session of the actor's, and free to answer: one statement claims the reply and numbers
        the message, and only a refusal reads why.
        """
        now = self.clock.now()
        wants_hint = hint or builtin.is_hint_request(text)
        async with self.database.transaction() as db:
            seq = await repository.claim_reply(
                db,
                session_id=session_id,
                user_id=actor.id,
                now=now,
                stale=now - REPLY_STALE,
                answer=not wants_hint,
            )
            if seq is None:
                practice = await repository.get(db, session_id)
                if practice is None or practice.interviewee_id != actor.id:
                    raise SessionNotFound()
                raise ReplyInProgress()
            stored = await repository.insert_message(
                db,
                MessageRow(
                    id=new_id(),
                    session_id=session_id,
                    seq=seq,
                    role="candidate",
                    kind="message",
                    text=text,
                    source=None,
                    tokens=0,
                    created_at=now,
                ),
            )
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
            return await facts_of(db, session_id)

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
        prompt_tokens = estimate_prompt_tokens(messages)
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

                closing = await self._store(
                    facts,
                    role="interviewer",
                    kind="closing",
                    text=builtin.closing(ended_by_time=state.end_reason is EndReason.AUTO_TIMEOUT),
                    source=PracticeEngine.BUILTIN,
                    also=close,
                )
                if closing is not None:  # the grading reads the transcript with its closing
                    facts = replace(facts, transcript=[*facts.transcript, closing])
            ended_at = state.ended_at or now
            feedback, tokens = await grading.by_model(
                self.client, model=self.settings.llm_model, facts=facts
            )
            source = PracticeEngine.MODEL
            if feedback is None:
                source, feedback = PracticeEngine.BUILTIN, grading.measured(facts, ended_at)
            written_at = self.clock.now()
            async with self.database.transaction() as db:
                stored = await repository.store_feedback(
                    db,
                    session_id=session_id,
                    now=written_at,
                    source=source,
                    feedback=feedback,
                    tokens=tokens,
                )
            if stored:
                row = msgspec.structs.replace(
                    facts.practice,
                    feedback=feedback,
                    feedback_source=source,
                    feedback_at=written_at,
                )
                payload = {"session_id": session_id, "feedback": to_builtins(feedback_read(row))}
                await self.push("practice_feedback", payload, row.interviewee_id)
        except Exception:
            logger.exception("practice feedback failed (session %s)", session_id)

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
