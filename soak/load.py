"""Load soak: Peerview's whole flow under 200 simulated users for 10 minutes, with a verdict.

`make soak` runs it. It empties a PostgreSQL database (every table of its public schema) and
migrates it, makes an admin, starts Peerview with 2 server processes sharing Redis (`REDIS_URL`:
login throttling counters and Socket.IO fan-out), drives it with locust headless
(`soak/locustfile.py`), samples the resident memory of the server processes every few seconds,
then prints the figures and a PASS/FAIL verdict per criterion:

- failures below 0.1 % of all requests;
- p95 response time below 300 ms over all requests;
- memory flat: no server process (nor their sum) grows more than 10 % over the last half of
  the run (the mean of the last tenth of the samples against the mean of the first tenth of
  the second half), and no server process was replaced or died.

It exits 1 when a criterion fails. The server start is bench/common.py's (`start_peerview`).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SOAK = Path(__file__).resolve().parent
ROOT = SOAK.parent
sys.path.insert(0, str(ROOT / "bench"))

from common import PYTHON, Database, Server, cpu_seconds, log, rss_kib, start_peerview  # noqa: E402

WORK = SOAK / ".work"
LOCUST = ROOT / ".venv" / "bin" / "locust"
ADMIN_EMAIL = "soak-admin@example.com"
ADMIN_PASSWORD = "soak-admin-password-1"  # noqa: S105

MAX_FAILURE_PERCENT = 0.1
MAX_P95_MS = 300
MAX_GROWTH_PERCENT = 10.0

# Time rules that let the whole flow happen within minutes on the real clock: requests are
# scheduled 20 minutes to 47 hours ahead and close 15 minutes before they start (so the
# nearest expire during the run, and the sweeper announces it), and a session may be started
# up to 48 hours early, so an interviewer starts each session as soon as it is accepted.
TIME_RULES = {
    "REQUEST_EXPIRY_BUFFER_HOURS": "0.25",
    "SESSION_EARLY_START_MINUTES": "2880",
    "CRON_INTERVAL_MINUTES": "1",
    "SWEEPER_ENABLED": "true",
}


@dataclass
class Sampler:
    """RSS of the server processes every `every` seconds, from its own thread."""

    server: Server
    every: float
    samples: list[tuple[float, dict[int, int]]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    # The load generator's pid, once known: its scheduling is read like the servers'.
    client: int | None = None
    # Per process: (seconds on a CPU, seconds runnable but waiting for one), first and last.
    sched_first: dict[str, tuple[float, float]] = field(default_factory=dict)
    sched_last: dict[str, tuple[float, float]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def workers(self) -> list[int]:
        """The serving processes: granian's workers (children of its supervisor)."""
        supervisor, *children = self.server.pids()
        spawned = []
        for pid in children:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            # Not multiprocessing's resource tracker, should there be one: a child too.
            if b"resource_tracker" not in cmdline:
                spawned.append(pid)
        return spawned or [supervisor]

    def run(self) -> None:
        while not self._stop.is_set():
            sample: dict[int, int] = {}
            for pid in self.workers():
                try:
                    sample[pid] = rss_kib(pid)
                except OSError:
                    continue
            self.samples.append((time.monotonic() - self.started, sample))
            tracked = {f"worker {pid}": pid for pid in sample}
            if self.client is not None:
                tracked["locust"] = self.client
            for label, pid in tracked.items():
                reading = schedstat(pid)
                if reading is not None:
                    self.sched_first.setdefault(label, reading)
                    self.sched_last[label] = reading
            self._stop.wait(self.every)

    def scheduling(self) -> list[str]:
        """How long each process ran, and how long it was ready to run but had no CPU."""
        lines = []
        for label, (cpu, wait) in sorted(self.sched_last.items()):
            cpu0, wait0 = self.sched_first[label]
            ran, waited = cpu - cpu0, wait - wait0
            lines.append(
                f"{label}: on a CPU {ran:.0f} s, runnable but waiting for a CPU {waited:.0f} s "
                f"({waited / ran if ran else 0:.1f} s waited per s run)"
            )
        return lines

    def start(self) -> threading.Thread:
        self.started = time.monotonic()
        thread = threading.Thread(target=self.run, daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()


def schedstat(pid: int) -> tuple[float, float] | None:
    """Seconds on a CPU and seconds waiting on a run queue, summed over the process's threads."""
    ran = waited = 0
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            try:
                fields = (task / "schedstat").read_text().split()
            except OSError:
                continue
            ran += int(fields[0])
            waited += int(fields[1])
    except OSError:
        return None
    return ran / 1e9, waited / 1e9


def cpu_pressure_us() -> int | None:
    """The host's CPU pressure stall total: microseconds in which some task waited for a CPU."""
    try:
        first = Path("/proc/pressure/cpu").read_text().splitlines()[0]
    except (OSError, IndexError):
        return None
    return int(first.rsplit("total=", 1)[1])


# --------------------------------------------------------------------------- setup


def reset_database(url: str) -> None:
    """Create the database if it is missing, else drop and remake its public schema."""
    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database
    plain = parsed.set(drivername="postgresql")

    async def run() -> None:
        admin = await asyncpg.connect(plain.set(database="postgres").render_as_string(False))
        try:
            exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
            if not exists:
                await admin.execute(f'CREATE DATABASE "{name}"')
                return
        finally:
            await admin.close()
        conn = await asyncpg.connect(plain.render_as_string(False))
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await conn.close()

    asyncio.run(run())


def cli(env: dict[str, str], *args: str) -> None:
    argv = [str(PYTHON), "-m", "peerview.cli", *args]
    subprocess.run(argv, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603


# --------------------------------------------------------------------------- verdicts


def memory_verdict(samples: list[tuple[float, dict[int, int]]]) -> tuple[bool, list[str]]:
    """Whether RSS stayed flat over the last half of the run, and the figures that say so."""
    if len(samples) < 8:
        return False, ["too few RSS samples to judge"]
    duration = samples[-1][0]
    pids = sorted(samples[0][1])
    lines: list[str] = []
    ok = True
    new = sorted({pid for _, s in samples for pid in s} - set(pids))
    gone = [pid for pid in pids if pid not in samples[-1][1]]
    if new or gone:
        ok = False
        lines.append(f"server processes changed during the run: new {new}, gone {gone}")

    def series(pid: int | None, since: float, until: float) -> list[float]:
        return [
            float(sum(s.values()) if pid is None else s.get(pid, 0)) / 1024
            for t, s in samples
            if since <= t < until
        ]

    for pid in [*pids, None]:
        label = "sum of workers" if pid is None else f"worker {pid}"
        first = series(pid, 0, duration / 2)
        second = series(pid, duration / 2, duration + 1)
        tenth = max(3, len(second) // 10)
        start, end = statistics.fmean(second[:tenth]), statistics.fmean(second[-tenth:])
        growth = (end - start) / start * 100 if start else float("inf")
        ok = ok and growth <= MAX_GROWTH_PERCENT
        lines.append(
            f"{label}: first half mean {statistics.fmean(first):.1f} MiB "
            f"(min {min(first):.1f}, max {max(first):.1f}); second half mean "
            f"{statistics.fmean(second):.1f} MiB (min {min(second):.1f}, max {max(second):.1f}); "
            f"over the last half {start:.1f} -> {end:.1f} MiB ({growth:+.1f} %)"
        )
    return ok, lines


def render(results: dict[str, Any], minutes: float) -> list[str]:
    total = results["total"]
    lines = [
        f"requests {total['requests']:,} ({total['requests'] / (minutes * 60):.1f}/s), "
        f"failures {total['failures']:,} ({failure_percent(total):.3f} %), "
        f"p50 {total['p50']} ms, p95 {total['p95']} ms, p99 {total['p99']} ms, "
        f"max {total['max']} ms",
        "",
        f"{'group':14} {'requests':>9} {'failures':>8} {'p50':>6} {'p95':>6} {'p99':>6} {'max':>7}",
    ]
    for name, g in results["groups"].items():
        lines.append(
            f"{name:14} {g['requests']:>9,} {g['failures']:>8} {g['p50']:>6} {g['p95']:>6} "
            f"{g['p99']:>6} {g['max']:>7}"
        )
    lines += ["", f"{'endpoint':58} {'requests':>9} {'fail':>5} {'p50':>6} {'p95':>6} {'p99':>6}"]
    for e in results["endpoints"]:
        lines.append(
            f"{e['method'] + ' ' + e['name']:58} {e['requests']:>9,} {e['failures']:>5} "
            f"{e['p50']:>6} {e['p95']:>6} {e['p99']:>6}"
        )
    lines += ["", f"{'minute':>6} {'requests':>9} {'failures':>8} {'p50':>6} {'p95':>6} {'p99':>6}"]
    for m in results["minutes"]:
        lines.append(
            f"{m['minute']:>6} {m['requests']:>9,} {m['failures']:>8} {m['p50']:>6} "
            f"{m['p95']:>6} {m['p99']:>6}"
        )
    lines += ["", "outcomes: " + ", ".join(f"{k} {v:,}" for k, v in results["outcomes"].items())]
    if results["errors"]:
        lines += ["", "failures:"]
        lines += [f"  {e['occurrences']:>5} x {e['method']} {e['name']}: {e['error'][:160]}"
                  for e in results["errors"]]  # fmt: skip
    return lines


def pressure_line(before: int | None, after: int | None, elapsed: float) -> list[str]:
    if before is None or after is None:
        return []
    share = (after - before) / 1e6 / elapsed * 100
    return [f"host CPU pressure: some task was waiting for a CPU {share:.0f} % of the run"]


def failure_percent(total: dict[str, Any]) -> float:
    return total["failures"] / total["requests"] * 100 if total["requests"] else 100.0


# --------------------------------------------------------------------------- driver


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10, help="run time (default 10)")
    parser.add_argument("--users", type=int, default=200, help="simulated users (default 200)")
    parser.add_argument("--spawn-rate", type=float, default=2, help="users started per second")
    parser.add_argument("--workers", type=int, default=2, help="server processes (default 2)")
    parser.add_argument("--port", type=int, default=18201)
    parser.add_argument("--sample-seconds", type=float, default=5, help="RSS sampling period")
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "SOAK_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/soak"
        ),
        help="PostgreSQL database to empty and use (default $SOAK_DATABASE_URL or …/soak)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("SOAK_REDIS_URL", "redis://127.0.0.1:6379/14"),
        help="Redis shared by the server processes (default $SOAK_REDIS_URL or db 14)",
    )
    args = parser.parse_args(argv)
    if not LOCUST.exists():
        print("locust is not installed: pip install -e '.[soak]'", file=sys.stderr)
        return 2
    WORK.mkdir(parents=True, exist_ok=True)
    minutes = args.minutes

    env_extra = {
        **TIME_RULES,
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        # Channels are shared by every Redis database: one of this run's own.
        "SOCKETIO_CHANNEL": f"peerview-soak-{uuid.uuid4().hex[:8]}",
        # Tokens outlive the run: users log in once.
        "ACCESS_TOKEN_MINUTES": str(max(60, int(minutes * 2) + 30)),
        # 2 processes x (10 + 5) connections at most: the PostgreSQL server is shared.
        "DATABASE_POOL_SIZE": "10",
        "DATABASE_MAX_OVERFLOW": "5",
        # Per-user write limit, where Peerview has one: far above what a simulated user does.
        "WRITE_RATE_LIMIT_PER_MINUTE": "100000",
    }
    from common import peerview_env  # the environment every bench server gets

    name = args.database_url.rsplit("/", 1)[-1]
    database = Database("postgresql", name)
    env = peerview_env(database, **env_extra)
    log(f"resetting {name} and migrating …")
    reset_database(args.database_url)
    cli(env, "migrate")
    cli(env, "create-admin", "--email", ADMIN_EMAIL, "--name", "Soak Admin", "--password",
        ADMIN_PASSWORD)  # fmt: skip

    server = start_peerview(database, args.port, args.workers, **env_extra)
    sampler = Sampler(server, args.sample_seconds)
    results_path = WORK / "results.json"
    results_path.unlink(missing_ok=True)
    locust_env = dict(os.environ)
    locust_env.update(
        SOAK_ADMIN_EMAIL=ADMIN_EMAIL,
        SOAK_ADMIN_PASSWORD=ADMIN_PASSWORD,
        SOAK_RESULTS=str(results_path),
    )
    argv = [
        str(LOCUST), "-f", str(SOAK / "locustfile.py"), "--headless",
        "--users", str(args.users), "--spawn-rate", str(args.spawn_rate),
        "--run-time", f"{int(minutes * 60)}s", "--host", server.base,
        "--only-summary", "--stop-timeout", "60", "--loglevel", "WARNING",
        "--csv", str(WORK / "locust"),
    ]  # fmt: skip
    locust_log = WORK / "locust.log"
    try:
        cpu_before = cpu_seconds(server.pids())
        log(f"locust: {args.users} users, {minutes:g} min, {args.workers} server processes …")
        sampler.start()
        started = time.monotonic()
        pressure_before = cpu_pressure_us()
        with locust_log.open("wb") as out:
            locust = subprocess.Popen(  # noqa: S603
                argv, cwd=ROOT, env=locust_env, stdout=out, stderr=subprocess.STDOUT
            )
            sampler.client = locust.pid
            try:
                locust.wait()
            except BaseException:
                locust.terminate()
                locust.wait(timeout=30)
                raise
        elapsed = time.monotonic() - started
        pressure_after = cpu_pressure_us()
        sampler.stop()
        cpu = cpu_seconds(server.pids()) - cpu_before
        alive = server.process.poll() is None
    finally:
        sampler.stop()
        server.stop()

    if not results_path.exists():
        print(f"locust wrote no results (exit {locust.returncode}); see {locust_log}")
        return 1
    results = json.loads(results_path.read_text())
    lines = [
        f"# Load soak: {args.users} users, {minutes:g} min, {args.workers} server processes, "
        f"PostgreSQL, Redis ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})",
        "",
        *render(results, elapsed / 60),
        "",
        f"server CPU: {cpu:.0f} s over {elapsed:.0f} s ({cpu / elapsed * 100:.0f} % of one core)",
        *pressure_line(pressure_before, pressure_after, elapsed),
        *sampler.scheduling(),
        f"RSS samples: {len(sampler.samples)} every {args.sample_seconds:g} s",
    ]
    mem_ok, mem_lines = memory_verdict(sampler.samples)
    lines += mem_lines
    failures_ok = results["total"]["requests"] > 0 and (
        failure_percent(results["total"]) < MAX_FAILURE_PERCENT
    )
    p95_ok = results["total"]["p95"] < MAX_P95_MS
    verdicts = [
        ("failures", failures_ok,
         f"{failure_percent(results['total']):.3f} % (limit < {MAX_FAILURE_PERCENT} %)"),
        ("p95", p95_ok, f"{results['total']['p95']} ms (limit < {MAX_P95_MS} ms)"),
        ("memory", mem_ok and alive,
         f"growth over the last half within {MAX_GROWTH_PERCENT:g} %"
         + ("" if alive else "; the server exited during the run")),
    ]  # fmt: skip
    lines.append("")
    lines += [f"{'PASS' if ok else 'FAIL'} {name}: {detail}" for name, ok, detail in verdicts]
    passed = all(ok for _, ok, _ in verdicts)
    lines.append(f"VERDICT {'PASS' if passed else 'FAIL'}")
    text = "\n".join(lines) + "\n"
    print(text)
    (WORK / "report.txt").write_text(text)
    (WORK / "rss.json").write_text(json.dumps(sampler.samples))
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
