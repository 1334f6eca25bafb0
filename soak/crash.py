"""Crash consistency: SIGKILL a real Peerview server under a write load, then read the database.

A load generator walks the whole flow of the product (register an interviewer and an
interviewee, post a request, accept it, start the session, end it, feedback both ways) against
a `peerview serve` process, and keeps a ledger of every write the server acknowledged (a 2xx
received) with what it answered. At random moments the server is killed with SIGKILL; while it
is down the database is read directly and checked, then the server is restarted (the restart
migrates) and the load goes on. The checks:

- every acknowledged write is there: the user, the request, the session of an accept (and its
  request ACCEPTED), the session LIVE or later with the `started_at` answered for a start,
  COMPLETED with the `ended_at` answered for an end, the feedback row; and the notifications
  each of them stores in its transaction (REQUEST_ACCEPTED, SESSION_STARTED, SESSION_ENDED
  to both, FEEDBACK_RECEIVED);
- SQLite's `PRAGMA integrity_check` answers `ok`;
- invariants: no ACCEPTED request without its session, no session without its ACCEPTED
  request, at most one session per request, no feedback on a session that is not COMPLETED,
  feedback only by a participant about the other, once per author and session, no started
  session without `started_at`.

Sessions can be run through in seconds with the real clock: requests are accepted, started and
ended well inside their scheduled slot (`REQUEST_EXPIRY_BUFFER_HOURS=0` lets a request be
scheduled minutes ahead; `SESSION_EARLY_START_MINUTES=120` lets it start at once).

    .venv/bin/python soak/crash.py --kills 20                      # SQLite in a temporary folder
    .venv/bin/python soak/crash.py --kills 20 --database postgresql \\
        --database-url postgresql+asyncpg://postgres@127.0.0.1:5432/<db>   # empties <db>

The quick version in `make test` is tests/reliability/test_crash_consistency.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from peerview.models import Base
from peerview.models.enums import NotificationKind

KINDS = ("user", "request", "accept", "start", "end", "feedback")
PASSWORD = "crash-consistency-password"  # noqa: S105 (accounts of the run)
JWT_SECRET = "crash-consistency-secret-0123456789abcdef0123456789"  # noqa: S105
# The time rules that let a flow run through in seconds (see the module docstring), as
# settings; the server of the run gets them from its environment.
TIME_RULES: dict[str, float] = {
    "request_expiry_buffer_hours": 0,
    "session_early_start_minutes": 120,
    "session_hard_buffer_minutes": 30,
    "no_show_minutes": 30,
}
SERVER_ENV = {
    **{name.upper(): str(value) for name, value in TIME_RULES.items()},
    "PEERVIEW_ENV": "development",
    "JWT_SECRET": JWT_SECRET,
    "WORKERS": "1",
    # The sweeper runs every 3 s, so its transactions are killed too now and then.
    "CRON_INTERVAL_MINUTES": "0.05",
    "SWEEPER_ENABLED": "true",
    "REDIS_URL": "",
    "SMTP_URL": "",
    "LOG_LEVEL": "WARNING",
}
# A pair's k-th flow schedules its request SCHEDULE_AHEAD + k * SLOT ahead: inside
# SESSION_EARLY_START_MINUTES, so the session can start at once, far from the sweeper's
# deadlines during a run, and never overlapping a session an earlier flow of the pair left
# behind when a kill cut it short (which would be a 409 SCHEDULE_CONFLICT).
SCHEDULE_AHEAD = timedelta(minutes=10)
SLOT = timedelta(minutes=20)
DURATION_MINUTES = 15


# --- the ledger of acknowledged writes ------------------------------------------------------


@dataclass(frozen=True)
class Ack:
    """One write the server acknowledged, with what it answered that a reader must find."""

    kind: str
    id: str
    fields: dict[str, Any]


@dataclass
class Ledger:
    acks: list[Ack] = field(default_factory=list)
    flows_completed: int = 0
    flows_interrupted: int = 0
    # Non-2xx answers the flow did not expect: (step, status, body).
    unexpected: list[tuple[str, int, str]] = field(default_factory=list)

    # Set on every acknowledged write and completed flow, for whoever waits for progress.
    progress: asyncio.Event = field(default_factory=asyncio.Event)

    def record(self, kind: str, id_: str, **fields: Any) -> None:
        self.acks.append(Ack(kind, id_, fields))
        self.progress.set()

    def flow_completed(self) -> None:
        self.flows_completed += 1
        self.progress.set()

    async def wait_for_writes(self, count: int, within: float) -> bool:
        return await self.wait_until(lambda: len(self.acks) >= count, within)

    async def wait_until(self, condition: Callable[[], bool], within: float) -> bool:
        """Wait until `condition` holds (checked after each progress), at most `within` s."""
        deadline = time.monotonic() + within
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.progress.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.progress.wait(), remaining)
        return True

    def counts(self, acks: Sequence[Ack] | None = None) -> Counter[str]:
        return Counter(a.kind for a in (self.acks if acks is None else acks))


class UnexpectedAnswer(Exception):
    def __init__(self, step: str, response: httpx.Response) -> None:
        super().__init__(f"{step}: {response.status_code} {response.text[:300]}")
        self.step = step
        self.status = response.status_code
        self.body = response.text[:300]


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


_serial = itertools.count(1)
# A pair of users starts this many flows before the load registers a new one: registrations
# stay part of the mix, no user comes near a per-user write limit, and an interviewee keeps
# fewer than 5 OPEN requests (the limit) however many of its flows a kill cut short.
FLOWS_PER_PAIR = 5


@dataclass
class Pair:
    """An interviewer and an interviewee: (id, token) each, and the flows they have started."""

    interviewer: tuple[str, str]
    interviewee: tuple[str, str]
    flows: int = 0


async def _post(
    client: httpx.AsyncClient, step: str, path: str, body: dict[str, Any], token: str | None = None
) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post(path, json=body, headers=headers)
    if not response.is_success:
        raise UnexpectedAnswer(step, response)
    return response.json()


async def register_pair(client: httpx.AsyncClient, ledger: Ledger, *, label: str) -> Pair:
    n = next(_serial)
    users = {}
    for role in ("INTERVIEWER", "INTERVIEWEE"):
        email = f"{label}-{n}-{role.lower()}@example.com"
        out = await _post(
            client,
            "register",
            "/api/auth/register",
            {"name": f"{role.title()} {n}", "email": email, "password": PASSWORD, "role": role},
        )
        user = out["user"]
        ledger.record("user", user["id"], email=user["email"], role=user["role"])
        users[role] = (user["id"], out["access_token"])
    return Pair(users["INTERVIEWER"], users["INTERVIEWEE"])


async def run_flow(
    client: httpx.AsyncClient,
    ledger: Ledger,
    *,
    label: str,
    now: Callable[[], datetime],
    rng: random.Random,
    pair: Pair | None = None,
) -> Pair:
    """One whole interview through the API, each acknowledged write recorded as it lands.

    Registers a new pair of users unless given one. A transport error (the server died)
    propagates: the flow is abandoned, since whether the write in flight happened is unknown.
    """

    async def call(step: str, path: str, body: dict[str, Any], token: str) -> Any:
        return await _post(client, step, path, body, token)

    if pair is None:
        pair = await register_pair(client, ledger, label=label)
    interviewer_id, interviewer = pair.interviewer
    interviewee_id, interviewee = pair.interviewee
    slot = pair.flows
    pair.flows += 1

    request = await call(
        "create request",
        "/api/interview-requests",
        {
            "category": "crash-consistency",
            "difficulty": rng.choice(["EASY", "MEDIUM", "HARD"]),
            "type": "CODING",
            "scheduled_at": (now() + SCHEDULE_AHEAD + slot * SLOT).isoformat(),
            "duration_minutes": DURATION_MINUTES,
        },
        interviewee,
    )
    ledger.record(
        "request",
        request["id"],
        interviewee_id=interviewee_id,
        scheduled_at=_when(request["scheduled_at"]),
    )

    session = await call(
        "accept", f"/api/interview-requests/{request['id']}/accept", {}, interviewer
    )
    ledger.record(
        "accept",
        session["id"],
        request_id=request["id"],
        interviewer_id=interviewer_id,
        interviewee_id=interviewee_id,
    )

    started = await call("start", f"/api/interview-sessions/{session['id']}/start", {}, interviewer)
    people = {"interviewer_id": interviewer_id, "interviewee_id": interviewee_id}
    ledger.record("start", session["id"], started_at=_when(started["started_at"]), **people)

    ended = await call("end", f"/api/interview-sessions/{session['id']}/end", {}, interviewer)
    ledger.record("end", session["id"], ended_at=_when(ended["ended_at"]), **people)

    for author_id, token in ((interviewer_id, interviewer), (interviewee_id, interviewee)):
        overall = rng.randint(1, 5)
        ratings = {
            "communication": rng.randint(1, 5),
            "problem_solving": rng.randint(1, 5),
            "technical": rng.randint(1, 5),
            "overall": overall,
        }
        feedback = await call(
            "feedback",
            "/api/feedback",
            {"session_id": session["id"], "ratings": ratings, "comments": "crash run"},
            token,
        )
        ledger.record(
            "feedback",
            feedback["id"],
            session_id=session["id"],
            author_id=author_id,
            subject_id=feedback["subject"]["id"],
            overall=overall,
        )
    ledger.flow_completed()
    return pair


# --- the checker ----------------------------------------------------------------------------


@dataclass
class CheckResult:
    acknowledged: Counter[str]
    # kind -> descriptions of acknowledged writes the database does not hold.
    lost: dict[str, list[str]]
    violations: list[str]
    # "ok", SQLite's complaints, or None on PostgreSQL (which has no such check).
    integrity: str | None

    @property
    def lost_count(self) -> int:
        return sum(len(v) for v in self.lost.values())

    @property
    def ok(self) -> bool:
        return self.lost_count == 0 and not self.violations and self.integrity in ("ok", None)

    def describe(self) -> str:
        lines = [f"lost {self.lost_count}, violations {len(self.violations)}, "]
        lines[0] += f"integrity_check {self.integrity or 'n/a'}"
        for kind, items in self.lost.items():
            lines += [f"  lost {kind}: {item}" for item in items[:10]]
        lines += [f"  violation: {v}" for v in self.violations[:20]]
        return "\n".join(lines)


async def _rows(conn: AsyncConnection, table: str, *columns: str) -> dict[str, dict[str, Any]]:
    t = Base.metadata.tables[table]
    result = await conn.execute(select(t.c.id, *(t.c[c] for c in columns)))
    return {row.id: dict(row._mapping) for row in result}


async def integrity_check(conn: AsyncConnection) -> str:
    """SQLite's verdict on the file: `ok`, or its complaints joined (an unreadable file too)."""
    try:
        rows = (await conn.exec_driver_sql("PRAGMA integrity_check")).scalars().all()
    except Exception as exc:
        return f"error: {exc}"
    return "; ".join(str(r) for r in rows)


async def check_database(conn: AsyncConnection, acks: Sequence[Ack], now: datetime) -> CheckResult:
    """Acknowledged writes present, invariants held, and (SQLite) the file sound, read on `conn`."""
    integrity = await integrity_check(conn) if conn.dialect.name == "sqlite" else None
    try:
        users = await _rows(conn, "users", "email", "role")
        requests = await _rows(
            conn, "interview_requests", "interviewee_id", "status", "scheduled_at"
        )
        sessions = await _rows(
            conn,
            "interview_sessions",
            "request_id",
            "interviewer_id",
            "interviewee_id",
            "status",
            "started_at",
            "ended_at",
            "end_reason",
            "hard_end_at",
        )
        feedback = await _rows(conn, "feedback", "session_id", "author_id", "subject_id", "overall")
        notifications = await _rows(
            conn, "notifications", "kind", "user_id", "session_id", "request_id"
        )
    except Exception as exc:
        return CheckResult(Counter(a.kind for a in acks), {"unreadable": [str(exc)]}, [], integrity)

    lost: dict[str, list[str]] = {}

    def missing(ack: Ack, why: str) -> None:
        lost.setdefault(ack.kind, []).append(f"{ack.id} {ack.fields}: {why}")

    # The notifications a write stores in its own transaction: (kind, recipient, subject).
    notified = {
        (n["kind"], n["user_id"], subject)
        for n in notifications.values()
        for subject in (n["session_id"], n["request_id"])
        if subject is not None
    }
    for ack in acks:
        f = ack.fields
        lost_before = len(lost.get(ack.kind, ()))
        if ack.kind == "user":
            row = users.get(ack.id)
            if row is None or (row["email"], row["role"]) != (f["email"], f["role"]):
                missing(ack, f"found {row}")
        elif ack.kind == "request":
            row = requests.get(ack.id)
            if row is None or (row["interviewee_id"], row["scheduled_at"]) != (
                f["interviewee_id"],
                f["scheduled_at"],
            ):
                missing(ack, f"found {row}")
        elif ack.kind == "accept":
            row = sessions.get(ack.id)
            req = requests.get(f["request_id"])
            if row is None or (row["request_id"], row["interviewer_id"], row["interviewee_id"]) != (
                f["request_id"],
                f["interviewer_id"],
                f["interviewee_id"],
            ):
                missing(ack, f"session {row}")
            elif req is None or req["status"] != "ACCEPTED":
                missing(ack, f"request {req}")
        elif ack.kind == "start":
            row = sessions.get(ack.id)
            if (
                row is None
                or row["status"] not in ("LIVE", "COMPLETED")
                or row["started_at"] != f["started_at"]
            ):
                missing(ack, f"found {row}")
        elif ack.kind == "end":
            row = sessions.get(ack.id)
            if row is None or (row["status"], row["end_reason"], row["ended_at"]) != (
                "COMPLETED",
                "ENDED_BY_INTERVIEWER",
                f["ended_at"],
            ):
                missing(ack, f"found {row}")
        elif ack.kind == "feedback":
            row = feedback.get(ack.id)
            if row is None or (row["session_id"], row["author_id"], row["overall"]) != (
                f["session_id"],
                f["author_id"],
                f["overall"],
            ):
                missing(ack, f"found {row}")
        else:
            raise ValueError(f"unknown kind {ack.kind}")
        if len(lost.get(ack.kind, ())) == lost_before:
            absent = [n for n in notifications_of(ack) if n not in notified]
            if absent:
                missing(ack, f"no notification {absent}")

    return CheckResult(
        Counter(a.kind for a in acks),
        lost,
        invariant_violations(requests, sessions, feedback, now),
        integrity,
    )


def _completed(session: dict[str, Any], now: datetime) -> bool:
    """COMPLETED, written down or by time: a LIVE session past `hard_end_at` *is* COMPLETED
    (docs/api.md §5.3: the time rules hold on every read, whether or not the sweeper has run)."""
    if session["status"] == "COMPLETED":
        return True
    hard_end_at = session["hard_end_at"]
    return session["status"] == "LIVE" and hard_end_at is not None and hard_end_at <= now


def invariant_violations(
    requests: dict[str, dict[str, Any]],
    sessions: dict[str, dict[str, Any]],
    feedback: dict[str, dict[str, Any]],
    now: datetime,
) -> list[str]:
    violations: list[str] = []
    by_request: dict[str, list[str]] = {}
    for s in sessions.values():
        by_request.setdefault(s["request_id"], []).append(s["id"])
    for request_id, ids in by_request.items():
        if len(ids) > 1:
            violations.append(f"request {request_id} has {len(ids)} sessions: {sorted(ids)}")
    for r in requests.values():
        if r["status"] == "ACCEPTED" and r["id"] not in by_request:
            violations.append(f"request {r['id']} is ACCEPTED without a session")
    for s in sessions.values():
        request = requests.get(s["request_id"])
        if request is None or request["status"] != "ACCEPTED":
            found = "missing" if request is None else request["status"]
            violations.append(f"session {s['id']} belongs to a request that is {found}")
        if s["status"] == "LIVE" and s["started_at"] is None:
            violations.append(f"session {s['id']} is LIVE without started_at")
        if s["status"] == "COMPLETED" and (s["started_at"] is None or s["ended_at"] is None):
            violations.append(f"session {s['id']} is COMPLETED without started_at/ended_at")
    authored: Counter[tuple[str, str]] = Counter()
    for fb in feedback.values():
        session = sessions.get(fb["session_id"])
        if session is None or not _completed(session, now):
            found = "missing" if session is None else session["status"]
            violations.append(f"feedback {fb['id']} is on a session that is {found}")
            continue
        pair = {session["interviewer_id"], session["interviewee_id"]}
        if fb["author_id"] not in pair or pair - {fb["author_id"]} != {fb["subject_id"]}:
            violations.append(f"feedback {fb['id']} is not by one participant about the other")
        authored[(fb["session_id"], fb["author_id"])] += 1
    for (session_id, author_id), count in authored.items():
        if count > 1:
            violations.append(f"{count} feedback by {author_id} on session {session_id}")
    return violations


def notifications_of(ack: Ack) -> list[tuple[str, str, str]]:
    """The notifications (kind, recipient, session or request) an acknowledged write stored
    with it, in its transaction (docs/api.md §9)."""
    f = ack.fields
    if ack.kind == "accept":
        return [(NotificationKind.REQUEST_ACCEPTED, f["interviewee_id"], f["request_id"])]
    if ack.kind == "start":
        return [(NotificationKind.SESSION_STARTED, f["interviewee_id"], ack.id)]
    if ack.kind == "end":
        return [
            (NotificationKind.SESSION_ENDED, user, ack.id)
            for user in (f["interviewer_id"], f["interviewee_id"])
        ]
    if ack.kind == "feedback":
        return [(NotificationKind.FEEDBACK_RECEIVED, f["subject_id"], f["session_id"])]
    return []


def checker_url(database_url: str) -> str:
    """The URL to read the database with: SQLite through plain aiosqlite, no pragmas of ours."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return url.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False)
    return database_url


async def verify(database_url: str, acks: Sequence[Ack], now: datetime) -> CheckResult:
    engine = create_async_engine(checker_url(database_url))
    try:
        async with engine.connect() as conn:
            return await check_database(conn, acks, now)
    finally:
        await engine.dispose()


async def reset_postgres(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
    finally:
        await engine.dispose()


# --- the server under test ------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class ServerDied(RuntimeError):
    pass


# A standby server process: it imports what `peerview serve` needs, then waits for the word
# on its standard input and runs `peerview serve` (migrating first) with its arguments.
STANDBY = """
import sys
import alembic.command, granian.server
import peerview.asgi, peerview.cli, peerview.main, peerview.migrate
if sys.stdin.readline().strip() == "serve":
    sys.exit(peerview.cli.main(["serve", *sys.argv[1:]]))
"""


class Server:
    """`peerview serve` in its own folder (no `.env` of the checkout), logging to a file.

    Cold, each start is the `peerview` executable, as an operator runs it. Warm, a standby
    process has already imported the code (the bulk of a start on a small machine) while the
    previous server was serving, and each start is that process running the same command
    (migration included) when told to: a restart then costs the migration and the startup.
    """

    def __init__(self, database_url: str, workdir: Path, *, warm: bool = False) -> None:
        self.database_url = database_url
        self.workdir = workdir
        self.warm = warm
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self._standby: subprocess.Popen[bytes] | None = None

    def _popen(self, argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        env = {**os.environ, **SERVER_ENV, "DATABASE_URL": self.database_url}
        with self.log_path.open("ab") as log:
            return subprocess.Popen(  # noqa: S603 (our own executable and arguments)
                argv,
                cwd=self.workdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                **kwargs,
            )

    def _arguments(self) -> list[str]:
        return ["--host", "127.0.0.1", "--port", str(self.port)]

    def prepare(self) -> None:
        """Warm: start the standby that the next `spawn` will use."""
        if self.warm and self._standby is None:
            argv = [sys.executable, "-c", STANDBY, *self._arguments()]
            self._standby = self._popen(argv, stdin=subprocess.PIPE)

    def spawn(self) -> None:
        with self.log_path.open("a") as log:
            log.write(f"--- start {datetime.now(UTC).isoformat()}\n")
        if self.warm:
            self.prepare()
            standby, self._standby = self._standby, None
            assert standby is not None
            assert standby.stdin is not None
            standby.stdin.write(b"serve\n")
            standby.stdin.close()
            self.process = standby
            # The next one imports while this one starts and serves.
            self.prepare()
            return
        executable = Path(sys.executable).parent / "peerview"
        self.process = self._popen([str(executable), "serve", *self._arguments()])

    async def wait_ready(self, within: float = 60) -> None:
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(base_url=self.base_url, timeout=2) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise ServerDied(
                        f"the server exited ({self.process.returncode}):\n{self.tail()}"
                    )
                with contextlib.suppress(httpx.TransportError):
                    if (await client.get("/api/health")).status_code == 200:
                        return
                await asyncio.sleep(0.05)
        raise ServerDied(f"the server did not answer within {within} s:\n{self.tail()}")

    def kill(self) -> None:
        """SIGKILL to the server's process group (any process it started dies with it)."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        """SIGTERM, as an operator would (SIGKILL if it has not ended within 30 s); the
        standby, if any, is ended too."""
        if self._standby is not None:
            self._standby.kill()
            self._standby.wait()
            if self._standby.stdin is not None:
                self._standby.stdin.close()
            self._standby = None
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# --- the run --------------------------------------------------------------------------------


@dataclass
class KillReport:
    number: int
    up_seconds: float
    # Writes acknowledged by this life of the server (from its start to the kill).
    writes: int
    check: CheckResult
    restart_seconds: float


@dataclass
class RunSummary:
    database: str
    kills: list[KillReport]
    final: CheckResult
    ledger: Ledger
    duration_seconds: float

    @property
    def idle_lives(self) -> int:
        """Kills that came before the server had acknowledged any write (nothing tested)."""
        return sum(1 for k in self.kills if k.writes == 0)

    @property
    def ok(self) -> bool:
        checks = self.final.ok and all(k.check.ok for k in self.kills)
        return checks and not self.ledger.unexpected and self.idle_lives == 0

    @property
    def lost(self) -> int:
        return max([self.final.lost_count, *(k.check.lost_count for k in self.kills)])

    @property
    def violations(self) -> int:
        return max([len(self.final.violations), *(len(k.check.violations) for k in self.kills)])

    def describe(self) -> str:
        counts = self.ledger.counts()
        per_kind = ", ".join(f"{k} {counts[k]}" for k in KINDS)
        integrity = {k.check.integrity for k in self.kills} | {self.final.integrity}
        lines = [
            f"database: {self.database}",
            f"kills: {len(self.kills)}",
            f"acknowledged writes: {len(self.ledger.acks)} ({per_kind})",
            f"flows: {self.ledger.flows_completed} completed, "
            f"{self.ledger.flows_interrupted} cut by a kill",
            f"unexpected answers: {len(self.ledger.unexpected)}",
            f"kills before any write: {self.idle_lives}",
            f"writes lost: {self.lost}",
            "integrity_check: "
            + (", ".join(sorted(i for i in integrity if i)) or "n/a (PostgreSQL)"),
            f"invariant violations: {self.violations}",
            f"duration: {self.duration_seconds:.1f} s",
            f"result: {'PASS' if self.ok else 'FAIL'}",
        ]
        lines += [f"  unexpected: {s} {st} {b}" for s, st, b in self.ledger.unexpected[:10]]
        if not self.final.ok:
            lines.append(self.final.describe())
        return "\n".join(lines)


async def _load(
    server: Server,
    ledger: Ledger,
    up: asyncio.Event,
    stop: asyncio.Event,
    registered: asyncio.Event,
    *,
    worker: int,
    label: str,
    rng: random.Random,
) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as client:
        pair: Pair | None = None
        while not stop.is_set():
            await up.wait()
            if stop.is_set():
                return
            if pair is not None and pair.flows >= FLOWS_PER_PAIR:
                pair = None
            try:
                if pair is None:
                    pair = await register_pair(client, ledger, label=f"{label}-w{worker}")
                    registered.set()
                pair = await run_flow(
                    client,
                    ledger,
                    label=f"{label}-w{worker}",
                    now=lambda: datetime.now(UTC),
                    rng=rng,
                    pair=pair,
                )
            except httpx.TransportError:
                # Killed under it (the run clears `up` before each kill, so the loop waits
                # for the restart), or a dead keep-alive connection of the killed server.
                ledger.flows_interrupted += 1
                await asyncio.sleep(0.05)
            except UnexpectedAnswer as exc:
                ledger.unexpected.append((exc.step, exc.status, exc.body))
                pair = None


async def run_crash(
    database_url: str,
    *,
    kills: int,
    workdir: Path,
    up_seconds: tuple[float, float] = (0.5, 3.0),
    writes_before_kill: int = 10,
    warm_restarts: bool = False,
    workers: int = 4,
    seed: int | None = None,
    progress: Callable[[str], None] | None = None,
) -> RunSummary:
    """Serve `database_url` (migrated by the first start), kill it `kills` times under load.

    Each kill comes `up_seconds` (a random span) after the server has acknowledged
    `writes_before_kill` writes since it started, so that every life of the server writes
    however slow the machine is. `warm_restarts`: see `Server`.

    The database is checked while the server is down after each kill, and once more after
    the last restart and a graceful stop.
    """
    rng = random.Random(seed)  # noqa: S311 (timing and ratings, not secrets)
    started = time.monotonic()
    label = f"crash{int(time.time() * 1000)}"
    ledger = Ledger()
    up, stop = asyncio.Event(), asyncio.Event()
    server = Server(database_url, workdir, warm=warm_restarts)
    reports: list[KillReport] = []
    loaders: list[asyncio.Task[None]] = []
    try:
        server.spawn()
        await server.wait_ready()
        up.set()
        registered = [asyncio.Event() for _ in range(workers)]
        loaders = [
            asyncio.create_task(
                _load(server, ledger, up, stop, registered[w], worker=w, label=label, rng=rng_w)
            )
            for w, rng_w in enumerate(
                random.Random(rng.random())  # noqa: S311
                for _ in range(workers)
            )
        ]
        # The kills start once every worker has registered its first pair of users (a
        # handful of argon2 hashes), so that the first kill can cut a flow anywhere.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*(r.wait() for r in registered)), 60)
        for number in range(1, kills + 1):
            # A random moment, once the server has acknowledged some writes since it started.
            ready_at, writes_at = time.monotonic(), len(ledger.acks)
            await ledger.wait_for_writes(writes_at + writes_before_kill, within=120)
            await asyncio.sleep(rng.uniform(*up_seconds))
            up.clear()
            server.kill()
            up_for = time.monotonic() - ready_at
            acks = list(ledger.acks)
            check = await verify(database_url, acks, datetime.now(UTC))
            restart = time.monotonic()
            server.spawn()
            await server.wait_ready()
            restart_seconds = time.monotonic() - restart
            up.set()
            report = KillReport(number, up_for, len(acks) - writes_at, check, restart_seconds)
            reports.append(report)
            if progress:
                progress(
                    f"kill {number:>3}/{kills}  up {up_for:5.2f} s  "
                    f"acknowledged +{report.writes:<4} = {len(acks):>6}  {check.describe()}  "
                    f"restart {restart_seconds:.1f} s"
                )
        # The last restart's server serves whole flows too; then an operator's stop (SIGTERM)
        # and the last check, of every write acknowledged in the run.
        completed = ledger.flows_completed
        await ledger.wait_until(lambda: ledger.flows_completed > completed, within=120)
        await asyncio.sleep(rng.uniform(*up_seconds))
    finally:
        stop.set()
        up.set()
        for task in loaders:
            task.cancel()
        for task in loaders:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        server.stop()
    final = await verify(database_url, list(ledger.acks), datetime.now(UTC))
    return RunSummary(
        database=make_url(database_url).get_backend_name(),
        kills=reports,
        final=final,
        ledger=ledger,
        duration_seconds=time.monotonic() - started,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument(
        "--database-url",
        default=os.environ.get("PEERVIEW_SOAK_DATABASE_URL"),
        help="PostgreSQL database to use (its public schema is dropped and migrated afresh); "
        "default: PEERVIEW_SOAK_DATABASE_URL",
    )
    parser.add_argument("--workers", type=int, default=4, help="concurrent flows (default 4)")
    parser.add_argument(
        "--min-up", type=float, default=0.5, help="least delay of a kill (seconds, default 0.5)"
    )
    parser.add_argument(
        "--max-up", type=float, default=3.0, help="most delay of a kill (seconds, default 3)"
    )
    parser.add_argument(
        "--writes-before-kill",
        type=int,
        default=10,
        help="writes each life of the server acknowledges before its kill's random delay",
    )
    parser.add_argument(
        "--warm",
        action="store_true",
        help="restart from a standby process that has imported the code already",
    )
    parser.add_argument("--seed", type=int, help="seed of the kill moments (default: random)")
    parser.add_argument("--keep", action="store_true", help="keep the SQLite file and the log")
    args = parser.parse_args(argv)

    # Interrupted (Ctrl-C, or SIGTERM from make or CI): the server and its standby are
    # stopped on the way out, never left running.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    workdir = Path(tempfile.mkdtemp(prefix="peerview-crash-"))
    if args.database == "postgresql":
        if not args.database_url:
            parser.error("--database postgresql needs --database-url or PEERVIEW_SOAK_DATABASE_URL")
        database_url = args.database_url
        asyncio.run(reset_postgres(database_url))
    else:
        database_url = f"sqlite+aiosqlite:///{workdir / 'peerview.db'}"
    print(f"Crash consistency on {args.database}: {args.kills} kills, files in {workdir}")
    summary = asyncio.run(
        run_crash(
            database_url,
            kills=args.kills,
            workdir=workdir,
            up_seconds=(args.min_up, args.max_up),
            writes_before_kill=args.writes_before_kill,
            warm_restarts=args.warm,
            workers=args.workers,
            seed=args.seed,
            progress=lambda line: print(line, flush=True),
        )
    )
    print(summary.describe())
    if summary.ok and not args.keep:
        for path in sorted(workdir.iterdir()):
            path.unlink()
        workdir.rmdir()
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
