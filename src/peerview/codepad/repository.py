"""SQL for the code pad: its documents, their appended updates, and the session they belong to."""

from __future__ import annotations

from datetime import datetime

import msgspec
from sqlalchemy import Executable, delete, insert, select, update

from peerview.db import Connection, Dialect, Query, bind, binds_for, insert_ignoring_conflicts
from peerview.models import CodeDocument, CodeUpdate, InterviewSession
from peerview.models.base import table_of
from peerview.models.enums import CodeLanguage, EndReason, SessionStatus

documents = table_of(CodeDocument)
updates = table_of(CodeUpdate)
_sessions = table_of(InterviewSession)


class SessionFacts(msgspec.Struct, frozen=True):
    """What the code pad needs of a session: who takes part, and its lifecycle's times."""

    interviewer_id: str | None  # None for a practice session
    interviewee_id: str
    status: SessionStatus
    scheduled_at: datetime
    hard_end_at: datetime | None
    ended_at: datetime | None
    end_reason: EndReason | None


class Head(msgspec.Struct, frozen=True):
    """A document without its data: enough to answer GET, or to know a cached copy is current."""

    language: CodeLanguage
    text: str
    version: int
    updated_at: datetime | None


class Locked(msgspec.Struct, frozen=True):
    language: CodeLanguage
    version: int


_FACTS = select(
    _sessions.c.interviewer_id,
    _sessions.c.interviewee_id,
    _sessions.c.status,
    _sessions.c.scheduled_at,
    _sessions.c.hard_end_at,
    _sessions.c.ended_at,
    _sessions.c.end_reason,
).where(_sessions.c.id == bind("session_id"))
_SESSION = Query(_FACTS, SessionFacts)
# FOR SHARE on PostgreSQL: a lifecycle change of the session (end, the sweeper) waits for the
# edit being stored, or the edit sees it; SQLite's writers run one at a time anyway.
_SESSION_SHARED = Query(_FACTS.with_for_update(read=True), SessionFacts)

_HEAD = Query(
    select(
        documents.c.language, documents.c.text, documents.c.version, documents.c.updated_at
    ).where(documents.c.session_id == bind("session_id")),
    Head,
)
_VERSION = select(documents.c.language, documents.c.version).where(
    documents.c.session_id == bind("session_id")
)
_LOCKED = Query(_VERSION.with_for_update(), Locked)
# A reader's consistent view on PostgreSQL: no update or compaction commits meanwhile.
_SHARED = Query(_VERSION.with_for_update(read=True), Locked)
_SNAPSHOT = Query(select(documents.c.snapshot).where(documents.c.session_id == bind("session_id")))


def _create(dialect: Dialect) -> Executable:
    statement = insert_ignoring_conflicts(dialect, documents)
    return statement.values(binds_for(list(documents.c)))  # type: ignore[no-any-return]


_CREATE = Query(_create)
_UPDATES_AFTER = Query(
    select(updates.c.version, updates.c.update)
    .where(updates.c.session_id == bind("session_id"), updates.c.version > bind("after"))
    .order_by(updates.c.version)
)
_APPEND = Query(insert(updates).values(binds_for(list(updates.c))))
_WRITE_TEXT = Query(
    update(documents)
    .where(documents.c.session_id == bind("session_id"))
    .values(
        text=bind("text", documents.c.text.type),
        version=bind("version", documents.c.version.type),
        updated_at=bind("updated_at", documents.c.updated_at.type),
    )
)
_WRITE_SNAPSHOT = Query(
    update(documents)
    .where(documents.c.session_id == bind("session_id"))
    .values(snapshot=bind("snapshot", documents.c.snapshot.type))
)
_FORGET_UPDATES = Query(
    delete(updates).where(
        updates.c.session_id == bind("session_id"), updates.c.version <= bind("through")
    )
)
_SET_LANGUAGE = Query(
    update(documents)
    .where(documents.c.session_id == bind("session_id"))
    .values(
        language=bind("language", documents.c.language.type),
        updated_at=bind("updated_at", documents.c.updated_at.type),
    )
)


async def session_facts(
    db: Connection, session_id: str, *, shared: bool = False
) -> SessionFacts | None:
    return await db.one(_SESSION_SHARED if shared else _SESSION, session_id=session_id)


async def head(db: Connection, session_id: str) -> Head | None:
    return await db.one(_HEAD, session_id=session_id)


async def create(db: Connection, session_id: str) -> None:
    """The session's document, empty, unless it exists."""
    await db.run(
        _CREATE,
        session_id=session_id,
        language=CodeLanguage.PLAINTEXT,
        snapshot=b"",
        text="",
        version=0,
        updated_at=None,
    )


async def lock(db: Connection, session_id: str, *, shared: bool = False) -> Locked | None:
    """The document's language and version, its row held until commit: exclusively for a
    writer, shared for a reader that needs one consistent view (PostgreSQL; SQLite's read
    transaction is one snapshot already, and its writers run one at a time)."""
    return await db.one(_SHARED if shared else _LOCKED, session_id=session_id)


async def snapshot(db: Connection, session_id: str) -> bytes:
    data = await db.scalar(_SNAPSHOT, session_id=session_id)
    return bytes(data) if data is not None else b""


async def updates_after(db: Connection, session_id: str, after: int) -> list[tuple[int, bytes]]:
    rows = await db.all(_UPDATES_AFTER, session_id=session_id, after=after)
    return [(int(version), bytes(data)) for version, data in rows]


async def append(
    db: Connection, *, session_id: str, version: int, data: bytes, text: str, now: datetime
) -> None:
    await db.run(_APPEND, session_id=session_id, version=version, update=data, created_at=now)
    await db.run(_WRITE_TEXT, session_id=session_id, text=text, version=version, updated_at=now)


async def compact(db: Connection, *, session_id: str, snapshot: bytes, through: int) -> None:
    """The snapshot rewritten to hold every update up to `through`, and those updates gone."""
    await db.run(_WRITE_SNAPSHOT, session_id=session_id, snapshot=snapshot)
    await db.run(_FORGET_UPDATES, session_id=session_id, through=through)


async def set_language(
    db: Connection, *, session_id: str, language: CodeLanguage, now: datetime
) -> None:
    await db.run(_SET_LANGUAGE, session_id=session_id, language=language, updated_at=now)
