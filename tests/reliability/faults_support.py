"""Private PostgreSQL and Redis instances that fault tests own, stop and start, and a load.

The shared services on 5432 and 6379 are never touched: each fault test runs its own
PostgreSQL cluster (initdb in a temporary directory, on a free port, as the `postgres` OS
user when the tests run as root) and its own `redis-server` (no persistence) on a free port.
Without the binaries the tests skip, or fail when PEERVIEW_REQUIRE_SERVICES=1 (CI).

Shared by `tests/reliability/test_faults.py` (short, in `make test`) and `soak/faults.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.support.servers import free_port

# Every request of a fault test must be answered within this many seconds: longer is a hang.
ANSWER_BOUND = 10.0
# Once PostgreSQL is back, the first 2xx must come within this many seconds.
RECOVERY_BOUND = 10.0


class Missing(Exception):
    """A binary the fault tests need is not installed."""


def postgres_bindir() -> Path:
    """The newest PostgreSQL server binaries installed (Debian's layout)."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
    )
    for bindir in reversed(candidates):
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise Missing("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")


def redis_server_binary() -> str:
    found = shutil.which("redis-server")
    if found is None:
        raise Missing("redis-server is not installed")
    return found


def _as_root() -> bool:
    return os.geteuid() == 0


class PrivatePostgres:
    """A throwaway cluster: trust auth, no fsync, listening on 127.0.0.1 only."""

    def __init__(self, bindir: Path) -> None:
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="peerview-faults-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        if _as_root():
            # PostgreSQL refuses to run as root; the cluster belongs to `postgres`.
            shutil.chown(self.root, user="postgres", group="postgres")

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.bindir / program), *args]
        if _as_root():
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(
                f"{program} {' '.join(args)} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{self.log_text()}"
            )

    def log_text(self) -> str:
        try:
            return self.log.read_text(errors="replace")
        except OSError:
            return ""

    def init(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C",
            "--no-sync",
            "--no-instructions",
        )

    def start(self) -> None:
        options = " ".join(
            [
                f"-p {self.port}",
                "-c listen_addresses=127.0.0.1",
                f"-c unix_socket_directories={self.root}",
                "-c fsync=off",
                "-c synchronous_commit=off",
                "-c full_page_writes=off",
                "-c max_connections=200",
            ]
        )
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "30",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
            "-o",
            options,
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "stop", "-w", "-t", "30", "-D", str(self.data), "-m", mode)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


class PrivateRedis:
    """`redis-server` without persistence: a stop loses everything, as a crash would."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.root = Path(tempfile.mkdtemp(prefix="peerview-faults-redis-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None
        log = (self.root / "redis.log").open("ab")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.root),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited: {self.log_text()}")
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock,
            ):
                sock.sendall(b"PING\r\n")
                if sock.recv(16).startswith(b"+PONG"):
                    return
            time.sleep(0.02)
        raise RuntimeError(f"redis-server did not answer: {self.log_text()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log_text(self) -> str:
        try:
            return (self.root / "redis.log").read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def server_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a `peerview serve` process in a fault test."""
    env = {
        **os.environ,
        "PEERVIEW_ENV": "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET": "test-secret-0123456789abcdef0123456789abcdef",
        "SWEEPER_ENABLED": "false",
        "LOG_LEVEL": "WARNING",
        # The load sends many writes per user; their rate limit is not what is tested here.
        "WRITE_RATE_LIMIT_PER_MINUTE": "0",
        **extra,
    }
    for name in ("CORS_ORIGINS", "SMTP_URL", "REDIS_URL"):
        if name not in extra:
            env.pop(name, None)
    return env


def text_of(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


async def until_healthy(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    async with httpx.AsyncClient(base_url=url) as http:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"server exited early:\n{text_of(log)}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get("/api/health", timeout=2)).status_code == 200:
                    return
            await asyncio.sleep(0.05)
    raise RuntimeError(f"server did not answer:\n{text_of(log)}")


async def register(
    http: httpx.AsyncClient, email: str, role: str = "INTERVIEWEE"
) -> dict[str, Any]:
    """A user made through the API: {"id", "token", "email", "password"}."""
    password = "correct horse battery"
    response = await http.post(
        "/api/auth/register",
        json={"name": email.split("@")[0], "email": email, "password": password, "role": role},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    return {
        "id": body["user"]["id"],
        "token": body["access_token"],
        "email": email,
        "password": password,
    }


@dataclass
class Outcome:
    """One request of a load: when it was sent and answered, and what it answered."""

    method: str
    path: str
    sent: float
    answered: float
    status: int | None = None
    content_type: str = ""
    body: Any = None
    error: str | None = None

    @property
    def took(self) -> float:
        return self.answered - self.sent

    @property
    def code(self) -> str | None:
        return self.body.get("code") if isinstance(self.body, dict) else None


async def timed(http: httpx.AsyncClient, method: str, path: str, **kwargs: Any) -> Outcome:
    sent = time.monotonic()
    try:
        response = await http.request(method, path, timeout=ANSWER_BOUND, **kwargs)
    except httpx.HTTPError as exc:
        return Outcome(method, path, sent, time.monotonic(), error=repr(exc))
    answered = time.monotonic()
    try:
        body: Any = response.json()
    except ValueError:
        body = response.text
    return Outcome(
        method,
        path,
        sent,
        answered,
        status=response.status_code,
        content_type=response.headers.get("content-type", ""),
        body=body,
    )


@dataclass
class Load:
    """`clients` workers, each sending reads and writes as one user until stopped."""

    url: str
    users: list[dict[str, Any]]
    clients: int
    pause: float = 0.01
    outcomes: list[Outcome] = field(default_factory=list)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)

    async def _worker(self, n: int) -> None:
        user = self.users[n % len(self.users)]
        headers = {"Authorization": f"Bearer {user['token']}"}
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=self.url, headers=headers, limits=limits) as http:
            i = 0
            while not self._stop.is_set():
                i += 1
                if i % 3 == 0:
                    outcome = await timed(
                        http, "PATCH", "/api/users/me", json={"name": f"n{n}-{i}"}
                    )
                else:
                    outcome = await timed(http, "GET", "/api/auth/me")
                self.outcomes.append(outcome)
                if outcome.error is not None:
                    # A refused connection comes back at once: do not spin on it.
                    await asyncio.sleep(0.05)
                await asyncio.sleep(self.pause)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[Load]:
        tasks = [asyncio.create_task(self._worker(n)) for n in range(self.clients)]
        try:
            yield self
        finally:
            self._stop.set()
            await asyncio.gather(*tasks)


def is_problem_503(outcome: Outcome, code: str = "SERVICE_UNAVAILABLE") -> bool:
    return (
        outcome.status == 503
        and outcome.content_type.startswith("application/problem+json")
        and outcome.code == code
    )


@dataclass
class Restart:
    """What one PostgreSQL restart under load looked like."""

    mode: str
    stopped_at: float
    back_at: float
    outcomes: list[Outcome]
    health_while_down: list[Outcome]

    @property
    def first_2xx_after_back(self) -> float | None:
        """Seconds from PostgreSQL accepting connections again to Peerview's first 2xx."""
        times = [
            o.answered
            for o in self.outcomes
            if o.status is not None and 200 <= o.status < 300 and o.sent >= self.back_at
        ]
        return min(times) - self.back_at if times else None

    @property
    def unavailable(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == 503]

    @property
    def hangs(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.error is not None or o.took > ANSWER_BOUND]

    @property
    def other_errors(self) -> list[Outcome]:
        """Every answer that is neither a 2xx nor a 503 problem document."""
        return [
            o
            for o in self.outcomes
            if o.status is not None and not 200 <= o.status < 300 and not is_problem_503(o)
        ]

    def summary(self) -> str:
        first = self.first_2xx_after_back
        slowest = max((o.took for o in self.outcomes), default=0.0)
        return (
            f"stop -m {self.mode}: {len(self.outcomes)} requests, "
            f"{len(self.unavailable)} x 503, {len(self.other_errors)} other non-2xx, "
            f"{len(self.hangs)} hangs, slowest answer {slowest:.2f} s, "
            f"down {self.back_at - self.stopped_at:.2f} s, first 2xx "
            + (f"{first:.2f} s after PostgreSQL was back" if first is not None else "never")
        )


async def _lock_users(pg: PrivatePostgres, waiting: int) -> Any:
    """A connection holding an exclusive lock on `users`, once `waiting` backends wait on it.

    Every request reads `users` (authentication), so those requests are in flight inside
    PostgreSQL when it stops: their connections are the ones a stop cuts.
    """
    import asyncpg

    conn = await asyncpg.connect(host="127.0.0.1", port=pg.port, user="postgres")
    await conn.execute("BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE")
    # Watched from another connection: a transaction sees pg_stat_activity as of its start.
    watcher = await asyncpg.connect(host="127.0.0.1", port=pg.port, user="postgres")
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            blocked = await watcher.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
            )
            if blocked >= waiting:
                return conn
            await asyncio.sleep(0.02)
    finally:
        await watcher.close()
    raise AssertionError(f"fewer than {waiting} requests waited on the lock")


async def restart_under_load(
    pg: PrivatePostgres,
    url: str,
    users: list[dict[str, Any]],
    *,
    clients: int,
    mode: str,
    down_for: float,
    in_flight: int = 0,
    steady: float = 0.5,
    after: float = 1.0,
) -> Restart:
    """Stop PostgreSQL (`pg_ctl stop -m mode`) under load, keep it down, start it again.

    With `in_flight`, that many requests are held inside PostgreSQL when it stops. The load
    goes on until `after` seconds of answers past the first 2xx once PostgreSQL is back (or
    the recovery and answer bounds have passed), so what follows recovery is judged too.
    """
    load = Load(url, users, clients)
    health: list[Outcome] = []
    async with load.running():
        await asyncio.sleep(steady)
        locker = await _lock_users(pg, in_flight) if in_flight else None
        stopped_at = time.monotonic()
        await asyncio.to_thread(pg.stop, mode)
        if locker is not None:
            locker.terminate()
        async with httpx.AsyncClient(base_url=url) as http:
            deadline = time.monotonic() + down_for
            while time.monotonic() < deadline:
                health.append(await timed(http, "GET", "/api/health"))
                await asyncio.sleep(0.1)
        await asyncio.to_thread(pg.start)
        back_at = time.monotonic()
        give_up = back_at + RECOVERY_BOUND + ANSWER_BOUND
        while time.monotonic() < give_up:
            ok = [
                o.answered
                for o in load.outcomes
                if o.sent >= back_at and o.status is not None and 200 <= o.status < 300
            ]
            if ok and time.monotonic() - min(ok) >= after:
                break
            await asyncio.sleep(0.05)
    return Restart(
        mode=mode,
        stopped_at=stopped_at,
        back_at=back_at,
        outcomes=load.outcomes,
        health_while_down=health,
    )


@asynccontextmanager
async def postgres_refusing(sqlstate: str, message: str) -> AsyncIterator[str]:
    """A listener that answers every PostgreSQL connection as a starting server does.

    It declines SSL and GSS encryption, reads the startup message and sends the FATAL
    ErrorResponse PostgreSQL sends while it starts up or shuts down (SQLSTATE 57P03), then
    hangs up: the moment between `pg_ctl start` and the server accepting connections,
    made to last.
    """

    def field(kind: bytes, value: str) -> bytes:
        return kind + value.encode() + b"\0"

    payload = (
        field(b"S", "FATAL")
        + field(b"V", "FATAL")
        + field(b"C", sqlstate)
        + field(b"M", message)
        + b"\0"
    )
    error = b"E" + (len(payload) + 4).to_bytes(4, "big") + payload

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                length = int.from_bytes(await reader.readexactly(4), "big")
                packet = await reader.readexactly(length - 4)
                code = int.from_bytes(packet[:4], "big")
                if code in (80877103, 80877104):  # SSLRequest, GSSENCRequest: no
                    writer.write(b"N")
                    await writer.drain()
                    continue
                writer.write(error)
                await writer.drain()
                break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def postgres_silent() -> AsyncIterator[str]:
    """A listener that accepts PostgreSQL connections and never answers: a frozen server."""
    held: list[asyncio.StreamWriter] = []

    async def hold(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"postgresql+asyncpg://postgres@127.0.0.1:{port}/postgres"
    finally:
        for writer in held:
            writer.close()
        server.close()
        await server.wait_closed()


async def schedule_session(
    http: httpx.AsyncClient,
    interviewee: dict[str, Any],
    interviewer: dict[str, Any],
    *,
    minutes_ahead: float = 10,
) -> tuple[dict[str, Any] | None, list[Outcome]]:
    """Post a request and accept it through the REST API: the session and both answers.

    The server must run with a small REQUEST_EXPIRY_BUFFER_HOURS (minutes ahead are enough).
    """
    when = (datetime.now(UTC) + timedelta(minutes=minutes_ahead)).isoformat()
    body = {
        "category": "graphs",
        "difficulty": "EASY",
        "scheduled_at": when,
        "duration_minutes": 30,
    }
    auth = {"Authorization": f"Bearer {interviewee['token']}"}
    posted = await timed(http, "POST", "/api/interview-requests", json=body, headers=auth)
    if posted.status != 201:
        return None, [posted]
    auth = {"Authorization": f"Bearer {interviewer['token']}"}
    path = f"/api/interview-requests/{posted.body['id']}/accept"
    accepted = await timed(http, "POST", path, headers=auth)
    return (accepted.body if accepted.status == 201 else None), [posted, accepted]


async def heard_from_another_process(
    redis_url: str, channel: str, peer: Any, user_id: str, bound: float = 5.0
) -> float:
    """Seconds until an emit that another process publishes reaches `peer`'s socket.

    The emit goes through Redis only (a write-only manager on the server's channel), so it
    arrives once the server listens to Redis again. Fails after `bound` seconds.
    """
    import socketio

    other = socketio.AsyncRedisManager(redis_url, channel=channel, write_only=True)
    started = time.monotonic()
    marker = uuid.uuid4().hex
    try:
        while time.monotonic() - started < bound:
            await other.emit("notification", {"marker": marker}, room=f"user:{user_id}")
            await asyncio.sleep(0.1)
            if any(n.get("marker") == marker for n in peer.received["notification"]):
                return time.monotonic() - started
    finally:
        if other.redis is not None:
            await other.redis.aclose()
    raise AssertionError(f"no emit of another process heard within {bound} s")
