"""What the benchmark scripts share: paths, database URLs, tokens, and starting servers."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path

import jwt

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / ".work"
RESULTS = BENCH / "results"
ANCHORS = BENCH / "anchors"
PYTHON = ROOT / ".venv" / "bin" / "python"

# Both servers sign and verify with this one key (Peerview wants 32+ characters in production).
JWT_SECRET = "peerview-bench-secret-0123456789abcdef0123"
METRICS_TOKEN = "peerview-bench-metrics-token"
# Every seeded account has this password (hashed once, with Peerview's argon2id parameters).
PASSWORD = "bench-password-1"
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True)
class Database:
    """One database under test: how Peerview, the seeder and the Express anchor reach it."""

    kind: str  # "sqlite" | "postgresql"
    name: str  # file stem or PostgreSQL database name

    @property
    def sqlite_path(self) -> Path:
        return WORK / f"{self.name}.db"

    @property
    def url(self) -> str:
        """The SQLAlchemy URL Peerview is given."""
        if self.kind == "sqlite":
            return f"sqlite+aiosqlite:///{self.sqlite_path}"
        return f"postgresql+asyncpg://postgres@127.0.0.1:5432/{self.name}"

    @property
    def plain_url(self) -> str:
        """The URL of a synchronous SQLAlchemy engine (SQLite) or of libpq/asyncpg (PostgreSQL)."""
        if self.kind == "sqlite":
            return f"sqlite:///{self.sqlite_path}"
        return f"postgresql://postgres@127.0.0.1:5432/{self.name}"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def token_for(user_id: str, *, hours: float = 12) -> str:
    """An access token Peerview accepts: HS256 with sub, iat, exp and jti."""
    now = int(time.time())
    claims = {"sub": user_id, "iat": now, "exp": now + int(hours * 3600), "jti": uuid.uuid4().hex}
    return jwt.encode(claims, JWT_SECRET, algorithm="HS256")


def peerview_env(database: Database, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database.url,
        JWT_SECRET=JWT_SECRET,
        SWEEPER_ENABLED="false",
        LOG_LEVEL="warning",
        PEERVIEW_ENV="production",
        METRICS_TOKEN=METRICS_TOKEN,
        # The write scenarios send far more than a person's writes per minute from few
        # accounts: the limit stays on (its check is part of the measured cost) but high.
        WRITE_RATE_LIMIT_PER_MINUTE="100000000",
    )
    # A REDIS_URL or .env of the caller's shell must not leak into a measured server.
    env.pop("REDIS_URL", None)
    env.update(extra)
    return env


class Server:
    """A server process group we started, stopped by its own process-group id."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int) -> None:
        self.name = name
        self.port = port
        WORK.mkdir(parents=True, exist_ok=True)
        self.log_path = WORK / f"{name}-{port}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, path: str = "/api/health", timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start; see {self.log_path}")
            try:
                # Loopback http only: the URL is built from our own port.
                with urllib.request.urlopen(self.base + path, timeout=2) as response:  # noqa: S310
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"{self.name} did not answer {path} within {timeout:.0f} s")

    def pids(self) -> list[int]:
        """The process and its children (granian's or cluster's workers)."""
        out = [self.process.pid]
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
            out.extend(int(p) for p in children.read_text().split())
        except OSError:
            pass
        return out

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            except ProcessLookupError:
                pass
        self._log.close()


def start_peerview(database: Database, port: int, workers: int, **env: str) -> Server:
    argv = [str(PYTHON), "-m", "peerview.cli", "serve", "--no-migrate"]
    argv += ["--port", str(port), "--workers", str(workers)]
    return ready(Server("peerview", argv, peerview_env(database, **env), port))


def start_express(database: Database, port: int, workers: int) -> Server:
    env = dict(os.environ)
    env.update(
        DB="pg" if database.kind == "postgresql" else "sqlite",
        WORKERS=str(workers),
        PORT=str(port),
        PG_URL=database.plain_url,
        SQLITE_PATH=str(database.sqlite_path),
        JWT_SECRET=JWT_SECRET,
    )
    node = shutil.which("node") or "node"
    return ready(Server("express", [node, str(ANCHORS / "server.js")], env, port))


def ready(server: Server) -> Server:
    """`server` once it answers; stopped if it never does."""
    try:
        server.wait_ready()
    except BaseException:
        server.stop()
        raise
    return server


def rss_kib(pid: int) -> int:
    """Resident memory of one process, from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks every core of this machine has spent since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    user, nice, system, idle, iowait, irq, softirq, steal = fields[:8]
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


def wait_machine_quiet(timeout: float = 120, busy_below: float = 0.1) -> float:
    """Wait until the machine's cores are nearly idle for a second (PostgreSQL's autovacuum
    after the sweeper's million-row updates, say); the seconds waited."""
    started = time.monotonic()
    quiet = 0
    while time.monotonic() - started < timeout and quiet < 2:
        busy, total = machine_ticks()
        time.sleep(0.5)
        busy2, total2 = machine_ticks()
        share = (busy2 - busy) / max(total2 - total, 1)
        quiet = quiet + 1 if share < busy_below else 0
    return time.monotonic() - started


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU time used so far by these processes."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks
