"""Seeds benchmark databases of realistic size, once: a fingerprint says when one can be reused.

The schema always comes from Peerview's own migrations. Rows are written in bulk: COPY on
PostgreSQL (asyncpg), SQLAlchemy Core executemany on SQLite. Every value is derived from a
fixed random seed and the seeding time, so two databases seeded from one plan hold the same
shape of data. Rows written this way pass no event to the analytics rollups, so they are
recounted (`peerview analytics rebuild`) once the rows are in.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from argon2 import PasswordHasher, Type
from common import PASSWORD, PG_ADMIN_URL, ROOT, WORK, Database, log
from sqlalchemy import create_engine, event, text

from peerview.analytics.rebuild import rebuild_database
from peerview.config import Settings
from peerview.migrate import upgrade

# Bumped whenever the generators below change what they write.
SEED_VERSION = 5
# An HTTP database is reseeded after this long: its OPEN requests and future sessions must
# still be in the future when the servers read them.
MAX_AGE_SECONDS = 3 * 24 * 3600

CATEGORIES = [
    "arrays",
    "strings",
    "graphs",
    "trees",
    "dynamic-programming",
    "system-design",
    "databases",
    "concurrency",
    "networking",
    "behavioral",
    "frontend",
    "operating-systems",
]
DIFFICULTIES = ["EASY", "MEDIUM", "MEDIUM", "HARD"]
TYPES = ["CODING", "CODING", "SYSTEM_DESIGN", "BEHAVIORAL", "CONCEPTUAL"]
DURATIONS = [30, 45, 60, 60, 60, 90]
NOTES = ["", "", "Please focus on edge cases.", "Mock for an upcoming onsite.", "First try!"]

USER_COLUMNS = [
    "id",
    "name",
    "email",
    "password_hash",
    "role",
    "is_active",
    "email_notifications",
    "tokens_valid_after",
    "created_at",
    "updated_at",
]
REQUEST_COLUMNS = [
    "id",
    "interviewee_id",
    "category",
    "difficulty",
    "type",
    "scheduled_at",
    "duration_minutes",
    "note",
    "status",
    "expires_at",
    "accepted_at",
    "created_at",
    "updated_at",
]
SESSION_COLUMNS = [
    "id",
    "request_id",
    "interviewer_id",
    "interviewee_id",
    "category",
    "difficulty",
    "type",
    "status",
    "scheduled_at",
    "duration_minutes",
    "scheduled_end_at",
    "started_at",
    "planned_end_at",
    "hard_end_at",
    "ended_at",
    "end_reason",
    "cancel_reason",
    "extended_minutes",
    "interviewee_joined_at",
    "version",
    "created_at",
    "updated_at",
]
FEEDBACK_COLUMNS = [
    "id",
    "session_id",
    "author_id",
    "subject_id",
    "author_role",
    "communication",
    "problem_solving",
    "technical",
    "overall",
    "comments",
    "created_at",
]
EXPIRY_BUFFER = timedelta(hours=5)
HARD_BUFFER = timedelta(minutes=30)
NO_SHOW = timedelta(minutes=30)


@dataclass(frozen=True)
class Plan:
    """What one database holds. `kind` "http": the API benchmarks; "scale": the sweeper's."""

    kind: str
    users: int
    interviewers: int
    requests: int
    sessions: int
    # http: OPEN requests, one each for the first interviewees.
    open_requests: int = 0
    # scale: overdue LIVE sessions and SCHEDULED no-shows, each `due_step` apart in time.
    due_live: int = 0
    due_no_show: int = 0
    # scale: an hour's gap in both due series after this many, so that a sweep of the first
    # ones finds no SCHEDULED session just ahead (which would get reminders) and no LIVE one
    # a second away.
    due_gap_after: int = 0

    def fingerprint(self) -> str:
        migrations = sorted(p.name for p in (ROOT / "migrations" / "versions").glob("*.py"))
        raw = json.dumps([SEED_VERSION, asdict(self), migrations], sort_keys=True)
        return hashlib.sha256(raw.encode()).hexdigest()[:16]


HTTP_FULL = Plan("http", users=1000, interviewers=250, requests=100_000, sessions=50_000,
                 open_requests=300)  # fmt: skip
# 349 interviewees: enough that the create scenario's short-lived posts stay under the rule
# of 5 OPEN requests each even at a smoke run's rates.
HTTP_QUICK = Plan("http", users=400, interviewers=50, requests=4_000, sessions=2_000,
                  open_requests=40)  # fmt: skip
# The analytics scale figure: the same plans with every kind of row doubled (same people).
HTTP_FULL_X2 = Plan("http", users=1000, interviewers=250, requests=200_000, sessions=100_000,
                    open_requests=600)  # fmt: skip
HTTP_QUICK_X2 = Plan("http", users=400, interviewers=50, requests=8_000, sessions=4_000,
                     open_requests=80)  # fmt: skip
SCALE_FULL = Plan("scale", users=1000, interviewers=250, requests=1_000_000, sessions=1_000_000,
                  due_live=50_000, due_no_show=50_000, due_gap_after=500)  # fmt: skip
SCALE_QUICK = Plan("scale", users=100, interviewers=25, requests=20_000, sessions=20_000,
                   due_live=1_000, due_no_show=1_000, due_gap_after=50)  # fmt: skip
DUE_STEP = timedelta(seconds=10)
DUE_GAP = timedelta(hours=1)


def due_offset(plan: Plan, k: int) -> timedelta:
    """Where the k-th due session of each series lies after `scale_base`."""
    return k * DUE_STEP + (DUE_GAP if k >= plan.due_gap_after else timedelta(0))


def scale_base(seeded_at: datetime) -> datetime:
    """The instant the sweeper's due sessions start at (30 days before seeding)."""
    return seeded_at.replace(microsecond=0) - timedelta(days=30)


# --------------------------------------------------------------------------- databases


def ensure_postgres_database(name: str) -> None:
    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()

    asyncio.run(run())


def _sqlite_engine(database: Database) -> Any:
    engine = create_engine(database.plain_url)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    return engine


def execute(database: Database, statements: Sequence[str | tuple[str, Any]]) -> list[Any]:
    """Run SQL statements in one transaction; each result's rows (or None) in order.

    A statement is SQL text with `:name` parameters, or (text, params).
    """
    out: list[Any] = []
    if database.kind == "sqlite":
        engine = _sqlite_engine(database)
        with engine.begin() as conn:
            for item in statements:
                sql, params = item if isinstance(item, tuple) else (item, {})
                result = conn.execute(text(sql), params)
                out.append([tuple(r) for r in result] if result.returns_rows else None)
        engine.dispose()
        return out

    async def run() -> None:
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(database.url)
        async with engine.begin() as conn:
            for item in statements:
                sql, params = item if isinstance(item, tuple) else (item, {})
                result = await conn.execute(text(sql), params)
                out.append([tuple(r) for r in result] if result.returns_rows else None)
        await engine.dispose()

    asyncio.run(run())
    return out


def _read_meta(database: Database, plan: Plan) -> tuple[str, float] | None:
    try:
        rows = execute(
            database,
            [("SELECT fingerprint, seeded_at FROM bench_seed WHERE kind = :k", {"k": plan.kind})],
        )[0]
    except Exception:
        return None
    return (rows[0][0], float(rows[0][1])) if rows else None


def _reset(database: Database) -> None:
    if database.kind == "sqlite":
        WORK.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            path = database.sqlite_path.with_name(database.sqlite_path.name + suffix)
            path.unlink(missing_ok=True)
        return
    ensure_postgres_database(database.name)
    execute(database, ["DROP SCHEMA public CASCADE", "CREATE SCHEMA public"])


def ensure(database: Database, plan: Plan) -> datetime:
    """Seed `database` by `plan` unless it already holds that seed; return the seeding time."""
    if database.kind == "postgresql":
        ensure_postgres_database(database.name)
    meta = _read_meta(database, plan)
    fingerprint = plan.fingerprint()
    if meta is not None and meta[0] == fingerprint:
        age = time.time() - meta[1]
        if plan.kind == "scale" or age < MAX_AGE_SECONDS:
            log(f"{database.kind}/{database.name}: seed {fingerprint} reused ({age / 3600:.1f} h)")
            return datetime.fromtimestamp(meta[1], UTC)
    started = time.monotonic()
    log(f"{database.kind}/{database.name}: seeding {plan} …")
    _reset(database)
    upgrade(database.url)
    seeded_at = datetime.now(UTC)
    tables = _generate(plan, seeded_at)
    _load(database, tables)
    rebuild_analytics(database)
    execute(
        database,
        [
            "CREATE TABLE bench_seed (kind VARCHAR(16) PRIMARY KEY, fingerprint VARCHAR(64), "
            "seeded_at FLOAT)",
            (
                "INSERT INTO bench_seed VALUES (:k, :f, :t)",
                {"k": plan.kind, "f": fingerprint, "t": seeded_at.timestamp()},
            ),
        ],
    )
    log(f"{database.kind}/{database.name}: seeded in {time.monotonic() - started:.0f} s")
    return seeded_at


def rebuild_analytics(database: Database) -> None:
    """Recount the analytics rollups of rows loaded behind the application's back."""
    settings = Settings(database_url=database.url, _env_file=None)  # type: ignore[call-arg]
    asyncio.run(rebuild_database(settings, progress=lambda line: log(f"  {line}")))


# --------------------------------------------------------------------------- generation

Rows = Callable[[], Iterator[tuple[Any, ...]]]


def _ids(rng: random.Random, n: int) -> list[str]:
    return [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(n)]


def password_hash() -> str:
    """Peerview's argon2id parameters (OWASP's minimum), as its own PasswordService hashes."""
    hasher = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1, type=Type.ID)
    return hasher.hash(PASSWORD)


def _users(plan: Plan, rng: random.Random, t0: datetime) -> list[tuple[Any, ...]]:
    hashed = password_hash()
    rows = []
    for i, user_id in enumerate(_ids(rng, plan.users)):
        role = "ADMIN" if i == 0 else "INTERVIEWER" if i <= plan.interviewers else "INTERVIEWEE"
        created = t0 - timedelta(days=400 - i * 0.1)
        rows.append(
            (
                user_id,
                f"Bench User {i:04d}",
                f"user{i:04d}@bench.peerview.test",
                hashed,
                role,
                True,
                True,
                None,
                created,
                created,
            )
        )
    return rows


def _generate(plan: Plan, t0: datetime) -> dict[str, tuple[list[str], Rows]]:
    rng = random.Random(20261127)
    users = _users(plan, rng, t0)
    interviewers = [u[0] for u in users if u[4] == "INTERVIEWER"]
    interviewees = [u[0] for u in users if u[4] == "INTERVIEWEE"]
    if plan.kind == "http":
        requests, sessions, feedback = _http_rows(plan, rng, t0, interviewers, interviewees)
        return {
            "users": (USER_COLUMNS, lambda: iter(users)),
            "interview_requests": (REQUEST_COLUMNS, requests),
            "interview_sessions": (SESSION_COLUMNS, sessions),
            "feedback": (FEEDBACK_COLUMNS, feedback),
        }
    requests, sessions = _scale_rows(plan, t0, interviewers, interviewees)
    return {
        "users": (USER_COLUMNS, lambda: iter(users)),
        "interview_requests": (REQUEST_COLUMNS, requests),
        "interview_sessions": (SESSION_COLUMNS, sessions),
    }


@dataclass
class _Req:
    id: str
    interviewee_id: str
    category: str
    difficulty: str
    type: str
    scheduled_at: datetime
    duration: int
    status: str
    created_at: datetime
    accepted_at: datetime | None


def _http_rows(
    plan: Plan,
    rng: random.Random,
    t0: datetime,
    interviewers: list[str],
    interviewees: list[str],
) -> tuple[Rows, Rows, Rows]:
    """Requests mixed across statuses; sessions for the accepted ones; feedback on completed.

    Sessions: 98 % COMPLETED (8 % of those by AUTO_TIMEOUT), 1.2 % CANCELLED, 0.6 % SCHEDULED
    ahead, 0.2 % LIVE now. Each completed session has feedback from both sides (the unique
    (session, author) pair allows no more), so 50,000 sessions carry 98,000 feedback rows.
    """
    n_sessions = plan.sessions
    n_live = max(1, n_sessions * 2 // 1000)
    n_scheduled = max(2, n_sessions * 6 // 1000)
    n_cancelled = max(3, n_sessions * 12 // 1000)
    n_completed = n_sessions - n_live - n_scheduled - n_cancelled
    n_rest = plan.requests - n_sessions - plan.open_requests
    n_expired = n_rest * 6 // 10

    reqs: list[_Req] = []
    ids = _ids(rng, plan.requests)

    def pick(seq: list[str]) -> str:
        return seq[rng.randrange(len(seq))]

    def new(i: int, owner: str, status: str, created: datetime, scheduled: datetime) -> _Req:
        return _Req(
            id=ids[i],
            interviewee_id=owner,
            category=pick(CATEGORIES),
            difficulty=pick(DIFFICULTIES),
            type=pick(TYPES),
            scheduled_at=scheduled.replace(microsecond=0),
            duration=rng.choice(DURATIONS),
            status=status,
            created_at=created,
            accepted_at=None,
        )

    i = 0
    kinds = (
        ["COMPLETED"] * n_completed
        + ["CANCELLED"] * n_cancelled
        + ["SCHEDULED"] * n_scheduled
        + ["LIVE"] * n_live
    )
    session_kinds: list[str] = []
    for kind in kinds:
        if kind == "SCHEDULED":
            created = t0 - timedelta(days=rng.uniform(0.2, 5))
            scheduled = t0 + timedelta(days=rng.uniform(1, 30))
        elif kind == "LIVE":
            created = t0 - timedelta(days=rng.uniform(1, 5))
            scheduled = t0 - timedelta(minutes=rng.uniform(5, 40))
        else:
            created = t0 - timedelta(days=rng.uniform(2, 365))
            scheduled = created + timedelta(hours=rng.uniform(8, 24 * 20))
            scheduled = min(scheduled, t0 - timedelta(hours=6))
        req = new(i, pick(interviewees), "ACCEPTED", created, scheduled)
        expires = req.scheduled_at - EXPIRY_BUFFER
        req.accepted_at = min(created + timedelta(minutes=rng.uniform(3, 3 * 24 * 60)), expires)
        req.accepted_at = max(req.accepted_at, created + timedelta(seconds=30))
        reqs.append(req)
        session_kinds.append(kind)
        i += 1
    for k in range(plan.open_requests):
        created = t0 - timedelta(days=rng.uniform(0, 2))
        scheduled = t0 + timedelta(days=rng.uniform(10, 55))
        reqs.append(new(i, interviewees[k % len(interviewees)], "OPEN", created, scheduled))
        i += 1
    for k in range(n_rest):
        created = t0 - timedelta(days=rng.uniform(2, 365))
        scheduled = min(created + timedelta(hours=rng.uniform(8, 24 * 20)), t0)
        status = "EXPIRED" if k < n_expired else "CANCELLED"
        reqs.append(new(i, pick(interviewees), status, created, scheduled))
        i += 1

    def request_rows() -> Iterator[tuple[Any, ...]]:
        for r in reqs:
            updated = r.accepted_at or r.created_at
            yield (
                r.id,
                r.interviewee_id,
                r.category,
                r.difficulty,
                r.type,
                r.scheduled_at,
                r.duration,
                pick(NOTES),
                r.status,
                r.scheduled_at - EXPIRY_BUFFER,
                r.accepted_at,
                r.created_at,
                updated,
            )

    session_ids = _ids(rng, n_sessions)
    completed: list[tuple[str, str, str, datetime]] = []

    def session_rows() -> Iterator[tuple[Any, ...]]:
        completed.clear()
        srng = random.Random(7)
        for n, (r, kind) in enumerate(zip(reqs, session_kinds, strict=False)):
            sid = session_ids[n]
            interviewer = interviewers[srng.randrange(len(interviewers))]
            scheduled = r.scheduled_at
            slot_end = scheduled + timedelta(minutes=r.duration)
            started = planned = hard = ended = None
            end_reason = cancel_reason = joined = None
            extended = 0
            status = kind
            if kind in ("COMPLETED", "LIVE"):
                started = scheduled + timedelta(minutes=srng.uniform(-5, 10))
                if kind == "LIVE":
                    started = min(started, t0 - timedelta(minutes=1))
                extended = srng.choice([0, 0, 0, 0, 10, 15])
                planned = started + timedelta(minutes=r.duration + extended)
                hard = planned + HARD_BUFFER
                joined = started + timedelta(minutes=srng.uniform(0, 5))
            if kind == "COMPLETED":
                if srng.random() < 0.08:
                    ended, end_reason = hard, "AUTO_TIMEOUT"
                else:
                    assert planned is not None
                    ended = planned - timedelta(minutes=srng.uniform(0, 10))
                    end_reason = "ENDED_BY_INTERVIEWER"
                completed.append((sid, interviewer, r.interviewee_id, ended))
            elif kind == "CANCELLED":
                reason = srng.choice(["NO_SHOW", "CANCELLED_BY_INTERVIEWER", "BY_INTERVIEWEE"])
                if reason == "NO_SHOW":
                    ended, end_reason = scheduled + NO_SHOW, "NO_SHOW"
                else:
                    ended = scheduled - timedelta(hours=srng.uniform(1, 48))
                    end_reason = (
                        reason if reason != "BY_INTERVIEWEE" else "CANCELLED_BY_INTERVIEWEE"
                    )
                    cancel_reason = "Something came up."
            assert r.accepted_at is not None
            updated = ended or started or r.accepted_at
            yield (
                sid,
                r.id,
                interviewer,
                r.interviewee_id,
                r.category,
                r.difficulty,
                r.type,
                status,
                scheduled,
                r.duration,
                slot_end,
                started,
                planned,
                hard,
                ended,
                end_reason,
                cancel_reason,
                extended,
                joined,
                2 if kind == "COMPLETED" else 1 if kind in ("LIVE", "CANCELLED") else 0,
                r.accepted_at,
                updated,
            )

    def feedback_rows() -> Iterator[tuple[Any, ...]]:
        frng = random.Random(11)
        fids = iter(_ids(frng, 2 * len(completed)))
        for sid, interviewer, interviewee, ended in completed:
            for author, subject, role in (
                (interviewer, interviewee, "INTERVIEWER"),
                (interviewee, interviewer, "INTERVIEWEE"),
            ):
                scores = [min(5, max(1, round(frng.gauss(3.8, 0.9)))) for _ in range(4)]
                yield (
                    next(fids),
                    sid,
                    author,
                    subject,
                    role,
                    *scores,
                    "Clear thinking; talk through trade-offs earlier.",
                    ended + timedelta(minutes=frng.uniform(2, 48 * 60)),
                )

    return request_rows, session_rows, feedback_rows


def _scale_rows(
    plan: Plan, t0: datetime, interviewers: list[str], interviewees: list[str]
) -> tuple[Rows, Rows]:
    """One accepted request per session. Due: LIVE past `hard_end_at` and SCHEDULED past the
    no-show deadline, at `due_offset` after `scale_base`, so a clock just past the offset of
    n - 1 finds exactly n of each due. Also 1 % SCHEDULED ahead and 0.1 % LIVE now (not due); the
    rest finished long ago."""
    base = scale_base(t0)
    n = plan.sessions
    n_future = n // 100
    n_live_now = max(1, n // 1000)

    def shape(k: int) -> tuple[str, datetime, int]:
        """(kind, scheduled_at, duration) of session k."""
        duration = DURATIONS[k % len(DURATIONS)]
        if k < plan.due_live:
            hard = base + due_offset(plan, k)
            start = hard - HARD_BUFFER - timedelta(minutes=duration)
            return "LIVE_DUE", start, duration
        k2 = k - plan.due_live
        if k2 < plan.due_no_show:
            return "NO_SHOW_DUE", base - NO_SHOW + due_offset(plan, k2), duration
        k3 = k2 - plan.due_no_show
        if k3 < n_future:
            return "SCHEDULED", t0 + timedelta(hours=1 + k3 % 700), duration
        if k3 < n_future + n_live_now:
            return "LIVE", t0 - timedelta(minutes=10), duration
        days = 60 + (k3 * 7919) % (300 * 24 * 60) / (24 * 60)
        return ("COMPLETED" if k3 % 20 else "CANCELLED"), t0 - timedelta(days=days), duration

    def request_id(k: int) -> str:
        return str(uuid.UUID(int=(1 << 127) | k, version=4))

    def request_rows() -> Iterator[tuple[Any, ...]]:
        for k in range(n):
            _, scheduled, duration = shape(k)
            created = scheduled - timedelta(days=3)
            accepted = created + timedelta(hours=2)
            yield (
                request_id(k),
                interviewees[k % len(interviewees)],
                CATEGORIES[k % len(CATEGORIES)],
                DIFFICULTIES[k % len(DIFFICULTIES)],
                TYPES[k % len(TYPES)],
                scheduled,
                duration,
                "",
                "ACCEPTED",
                scheduled - EXPIRY_BUFFER,
                accepted,
                created,
                accepted,
            )

    def session_rows() -> Iterator[tuple[Any, ...]]:
        for k in range(n):
            kind, scheduled, duration = shape(k)
            started = planned = hard = ended = None
            end_reason = None
            status = kind
            if kind in ("LIVE_DUE", "LIVE", "COMPLETED"):
                started = scheduled
                planned = started + timedelta(minutes=duration)
                hard = planned + HARD_BUFFER
                status = "LIVE" if kind != "COMPLETED" else "COMPLETED"
                if kind == "COMPLETED":
                    ended, end_reason = planned, "ENDED_BY_INTERVIEWER"
            elif kind == "NO_SHOW_DUE":
                status = "SCHEDULED"
            elif kind == "CANCELLED":
                ended, end_reason = scheduled + NO_SHOW, "NO_SHOW"
            created = scheduled - timedelta(days=3) + timedelta(hours=2)
            yield (
                str(uuid.UUID(int=(2 << 126) | k, version=4)),
                request_id(k),
                interviewers[k % len(interviewers)],
                interviewees[k % len(interviewees)],
                CATEGORIES[k % len(CATEGORIES)],
                DIFFICULTIES[k % len(DIFFICULTIES)],
                TYPES[k % len(TYPES)],
                status,
                scheduled,
                duration,
                scheduled + timedelta(minutes=duration),
                started,
                planned,
                hard,
                ended,
                end_reason,
                None,
                0,
                None,
                0,
                created,
                ended or started or created,
            )

    return request_rows, session_rows


# --------------------------------------------------------------------------- loading

CHUNK = 20_000


def _chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def sqlite_time(value: datetime) -> str:
    """How Peerview's UTCDateTime stores a time on SQLite: naive UTC text with microseconds."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def _sqlite_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(sqlite_time(v) if isinstance(v, datetime) else v for v in row)


# Secondary indexes are dropped while a table is filled and made again from their own
# definitions afterwards: the schema ends as the migrations made it, in a fraction of the time.
SQLITE_INDEXES = (
    "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL"
)
PG_INDEXES = (
    "SELECT i.relname, pg_get_indexdef(i.oid) FROM pg_index x "
    "JOIN pg_class i ON i.oid = x.indexrelid WHERE x.indrelid = $1::regclass "
    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)"
)


def _load(database: Database, tables: dict[str, tuple[list[str], Rows]]) -> None:
    if database.kind == "sqlite":
        engine = _sqlite_engine(database)
        with engine.begin() as conn:
            for name, (columns, rows) in tables.items():
                sql = (
                    f"INSERT INTO {name} ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})"
                )
                indexes = list(conn.exec_driver_sql(SQLITE_INDEXES, (name,)))
                for index, _ in indexes:
                    conn.exec_driver_sql(f'DROP INDEX "{index}"')
                count = 0
                for chunk in _chunks(rows()):
                    conn.exec_driver_sql(sql, [_sqlite_row(r) for r in chunk])
                    count += len(chunk)
                for _, definition in indexes:
                    conn.exec_driver_sql(definition)
                log(f"  {name}: {count:,} rows")
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        engine.dispose()
        return

    async def run() -> None:
        conn = await asyncpg.connect(database.plain_url)
        try:
            for name, (columns, rows) in tables.items():
                indexes = await conn.fetch(PG_INDEXES, name)
                for index in indexes:
                    await conn.execute(f'DROP INDEX "{index[0]}"')
                count = 0
                for chunk in _chunks(rows()):
                    await conn.copy_records_to_table(name, records=chunk, columns=columns)
                    count += len(chunk)
                for index in indexes:
                    await conn.execute(index[1])
                log(f"  {name}: {count:,} rows")
            await conn.execute("ANALYZE")
        finally:
            await conn.close()

    asyncio.run(run())
