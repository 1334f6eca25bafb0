"""The code pad (docs/api.md §5.7): reading its final text, setting its language, and the
document's sync and updates that the Socket.IO events carry (§8.2).

An update is judged and stored in one transaction that holds the document's row: updates of
one session are stored one at a time, in the order of their versions, whichever process
received them. Every CODE_COMPACT_EVERY versions the snapshot is rewritten from the snapshot
and the updates since, and those updates deleted, in that same transaction. A refused update
stores nothing; the process's working copy it may have touched is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from peerview.actor import Actor
from peerview.codepad import repository
from peerview.codepad.document import TOO_LARGE, Documents, Refused, Working
from peerview.codepad.errors import CodeTooLarge, MalformedUpdate
from peerview.codepad.schemas import CodeRead
from peerview.config import Settings
from peerview.context import Ctx
from peerview.db import Connection, Database
from peerview.events import CodeLanguageChanged
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.errors import (
    InvalidSessionState,
    NotSessionInterviewer,
    SessionNotFound,
)
from peerview.interview_sessions.lifecycle import JOINABLE, SessionTimes, TimeRules, session_at
from peerview.models.enums import CodeLanguage, SessionStatus


def _read(session_id: str, head: repository.Head | None) -> CodeRead:
    if head is None:
        return CodeRead(
            session_id=session_id, language=CodeLanguage.PLAINTEXT, text="", updated_at=None
        )
    return CodeRead(
        session_id=session_id, language=head.language, text=head.text, updated_at=head.updated_at
    )


async def read(ctx: Ctx, *, session_id: str) -> CodeRead:
    """The code as it is now, in any state of the session: participants and admins."""
    await sessions_service.load_visible(db=ctx.db, actor=ctx.actor, session_id=session_id)
    return _read(session_id, await repository.head(ctx.db, session_id))


async def set_language(ctx: Ctx, *, session_id: str, language: CodeLanguage) -> CodeRead:
    """The interviewer sets the language while the session is SCHEDULED or LIVE; once
    committed, both participants' sockets get `code_language` (§8.3)."""
    row = await sessions_service.load_visible(
        db=ctx.db, actor=ctx.actor, session_id=session_id, admin_may_see=False
    )
    if ctx.actor.id != row.conductor_id:
        raise NotSessionInterviewer()
    state = session_at(sessions_service.times_of(row), ctx.now, ctx.rules)
    if state.status not in JOINABLE:
        raise InvalidSessionState(
            f"The session is {state.status.value}; its language can no longer change"
        )
    await repository.create(ctx.db, session_id)
    await repository.set_language(ctx.db, session_id=session_id, language=language, now=ctx.now)
    await ctx.events.publish(
        ctx.db,
        CodeLanguageChanged(
            session_id=session_id,
            interviewer_id=row.interviewer_id,
            interviewee_id=row.interviewee_id,
            language=language.value,
            at=ctx.now,
        ),
    )
    return _read(session_id, await repository.head(ctx.db, session_id))


# -- the document, for the socket events --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Synced:
    working: Working
    language: CodeLanguage


async def load(*, database: Database, documents: Documents, session_id: str) -> Synced:
    """The document as stored now: this process's copy when it is at the stored version,
    else read (snapshot and updates in one consistent view) and kept."""
    async with database.transaction(write=False) as db:
        head = await repository.head(db, session_id)
    if head is None:
        return Synced(Working(version=0), CodeLanguage.PLAINTEXT)
    cached = documents.at(session_id, head.version)
    if cached is not None:
        return Synced(cached, head.language)
    postgres = database.dialect == "postgresql"
    async with database.transaction(write=postgres) as db:
        # SQLite's read transaction is one snapshot; PostgreSQL's statements each see their
        # own, so the row is shared there until the snapshot and updates are read.
        locked = await repository.lock(db, session_id, shared=True)
        assert locked is not None  # a document is never deleted but with its session
        working = await _rebuild(db, session_id, version=locked.version)
    documents.put(session_id, working)
    return Synced(working, locked.language)


def _times(facts: repository.SessionFacts) -> SessionTimes:
    return SessionTimes(
        status=facts.status,
        scheduled_at=facts.scheduled_at,
        hard_end_at=facts.hard_end_at,
        ended_at=facts.ended_at,
        end_reason=facts.end_reason,
    )


async def append(
    *,
    db: Connection,
    documents: Documents,
    settings: Settings,
    actor: Actor,
    session_id: str,
    update: bytes,
    now: datetime,
    rules: TimeRules,
) -> int | None:
    """Judge and store one update of a LIVE session's participant: the version it made, or
    None when it changed nothing (already known: acknowledged, not stored, not relayed).

    The transaction holds the document's row (and shares the session's, on PostgreSQL) until
    it ends; the caller commits, then relays.
    """
    facts = await repository.session_facts(db, session_id, shared=True)
    if facts is None or actor.id not in (facts.interviewer_id, facts.interviewee_id):
        raise SessionNotFound()
    if session_at(_times(facts), now, rules).status is not SessionStatus.LIVE:
        raise InvalidSessionState("Edits are accepted only while the session is LIVE")
    locked = await repository.lock(db, session_id)
    if locked is None:
        await repository.create(db, session_id)
        locked = await repository.lock(db, session_id)
        assert locked is not None
    working = await _current(db, documents.take(session_id), session_id, version=locked.version)
    before_state, before_text = working.state_vector(), working.text
    try:
        working.apply(update, max_bytes=settings.code_max_bytes)
    except Refused as refusal:
        if not refusal.touched:
            documents.put(session_id, working)
        if refusal.code == TOO_LARGE:
            raise CodeTooLarge(
                f"The code would be over {settings.code_max_bytes} bytes of UTF-8"
            ) from None
        raise MalformedUpdate() from None
    if working.state_vector() == before_state and working.text == before_text:
        documents.put(session_id, working)
        return None
    version = locked.version + 1
    await repository.append(
        db, session_id=session_id, version=version, data=update, text=working.text, now=now
    )
    if version % settings.code_compact_every == 0:
        await repository.compact(
            db, session_id=session_id, snapshot=working.snapshot(), through=version
        )
    working.version = version

    async def keep() -> None:
        documents.put(session_id, working)

    db.after_commit(keep)
    return version


async def _current(
    db: Connection, working: Working | None, session_id: str, *, version: int
) -> Working:
    """`working` brought to the stored `version` (the row is held): the updates it lacks
    applied, or the document rebuilt when they are gone (compacted) or it has none."""
    if working is not None and working.version == version:
        return working
    if working is not None and working.version < version:
        later = await repository.updates_after(db, session_id, working.version)
        if [v for v, _ in later] == list(range(working.version + 1, version + 1)):
            working.catch_up([data for _, data in later], version=version)
            return working
    return await _rebuild(db, session_id, version=version)


async def _rebuild(db: Connection, session_id: str, *, version: int) -> Working:
    snapshot = await repository.snapshot(db, session_id)
    later = await repository.updates_after(db, session_id, 0)
    return Working.load(snapshot=snapshot, updates=[data for _, data in later], version=version)


async def text_of(db: Connection, session_id: str) -> str | None:
    """The code pad's text as last stored; None while nothing was ever written."""
    head = await repository.head(db, session_id)
    return None if head is None else head.text
