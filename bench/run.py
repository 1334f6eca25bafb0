"""Peerview against an Express implementation of the same endpoints, in one run, on one machine.

`make bench` runs everything (about 20 minutes); `make bench-quick` a one-minute smoke run on
small seeds. For each database (SQLite, PostgreSQL) and process count (1, 2) it starts both
servers over the same seeded database and drives them alternately with wrk, then prints a
table of requests per second, latencies, errors and the ratio Peerview/Express, and writes it
to bench/results/ with one `RATIO` line per scenario, database and process count.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import seed
from common import (
    ANCHORS,
    BENCH,
    PASSWORD,
    PYTHON,
    RESULTS,
    ROOT,
    WORK,
    Database,
    Server,
    cpu_seconds,
    log,
    start_express,
    start_peerview,
    token_for,
)

SCENARIOS = ["open", "session", "create", "accept", "login", "analytics"]
SCENARIO_TITLES = {
    "open": "GET /api/interview-requests/open (20 rows)",
    "session": "GET /api/interview-sessions/{id}",
    "create": "POST /api/interview-requests",
    "accept": "POST /api/interview-requests/{id}/accept (contended)",
    "login": "POST /api/auth/login (argon2id)",
    "analytics": "GET /api/analytics/platform",
}
# A status that is the right answer in a scenario, though not a 2xx.
EXPECTED = {"accept": {409}}
PEERVIEW_PORT = 18101
EXPRESS_PORT = 18102
ACCEPT_TARGETS = 2000
WRK_THREADS = 2
WRK_CONNECTIONS = 64
# A second a request: 64 connections would only fill a queue that takes a minute to drain.
CONNECTIONS = {"analytics": 4}


@dataclass(frozen=True)
class Mode:
    name: str
    plan: seed.Plan
    databases: tuple[Database, ...]
    processes: tuple[int, ...]
    duration: int
    warmup: int
    output: Path


FULL = Mode(
    "full",
    seed.HTTP_FULL,
    (Database("sqlite", "bench"), Database("postgresql", "bench")),
    (1, 2),
    duration=10,
    warmup=2,
    output=RESULTS / "latest.md",
)
QUICK = Mode(
    "quick",
    seed.HTTP_QUICK,
    (Database("sqlite", "bench_quick"), Database("postgresql", "bench_quick")),
    (1,),
    duration=1,
    warmup=0,
    output=WORK / "quick.md",
)


# --------------------------------------------------------------------------- tools


def ensure_tools() -> None:
    """wrk from Debian's packages, the anchor's npm packages, the bench's Python extras."""
    if shutil.which("wrk") is None:
        log("installing wrk (apt-get) …")
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False)
        if shutil.which("wrk") is None:
            subprocess.run(["apt-get", "update", "-q"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    lock = (ANCHORS / "package-lock.json").read_bytes()
    stamp = ANCHORS / "node_modules" / ".bench-lock-sha"
    digest = hashlib.sha256(lock).hexdigest()
    if not stamp.exists() or stamp.read_text() != digest:
        log("npm ci in bench/anchors …")
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=ANCHORS, check=True)
        stamp.write_text(digest)


# --------------------------------------------------------------------------- the world


@dataclass
class World:
    """Who and what the load is made of, in one seeded database."""

    database: Database
    admin: str
    interviewers: list[str]
    interviewees: list[str]
    emails: list[str]
    sessions: list[tuple[str, str, str]]  # (id, interviewer_id, interviewee_id)
    data_file: Path = field(init=False)

    def write_lua(self) -> None:
        """Tokens and ids for wrk.lua, fresh tokens every run."""
        tokens = {
            uid: token_for(uid) for uid in [self.admin, *self.interviewers, *self.interviewees]
        }
        pairs = []
        for n, (sid, interviewer, interviewee) in enumerate(self.sessions):
            pairs.append((tokens[interviewer if n % 2 == 0 else interviewee], sid))

        def lua_list(items: list[str]) -> str:
            return "{" + ",".join(json.dumps(i) for i in items) + "}"

        text = (
            "return {\n"
            f"admin = {json.dumps(tokens[self.admin])},\n"
            f"interviewers = {lua_list([tokens[u] for u in self.interviewers])},\n"
            f"interviewees = {lua_list([tokens[u] for u in self.interviewees])},\n"
            "sessions = {"
            + ",".join(f"{{{json.dumps(t)},{json.dumps(s)}}}" for t, s in pairs)
            + "},\n"
            f"logins = {lua_list(self.emails)},\n"
            f"password = {json.dumps(PASSWORD)},\n"
            "}\n"
        )
        self.data_file = WORK / f"wrk-data-{self.database.kind}-{self.database.name}.lua"
        self.data_file.write_text(text)
        self.tokens = tokens


def load_world(database: Database) -> World:
    users, sessions = seed.execute(
        database,
        [
            "SELECT id, role, email FROM users ORDER BY email",
            # Sessions of every state, spread over the table; participants alternate.
            "SELECT id, interviewer_id, interviewee_id FROM interview_sessions "
            "ORDER BY id LIMIT 4000",
        ],
    )
    world = World(
        database=database,
        admin=next(u[0] for u in users if u[1] == "ADMIN"),
        interviewers=[u[0] for u in users if u[1] == "INTERVIEWER"],
        interviewees=[u[0] for u in users if u[1] == "INTERVIEWEE"],
        emails=[u[2] for u in users],
        sessions=[tuple(s) for s in sessions],  # type: ignore[misc]
    )
    world.write_lua()
    return world


def db_time(database: Database, value: datetime) -> Any:
    return seed.sqlite_time(value) if database.kind == "sqlite" else value


def cleanup(database: Database) -> None:
    """Remove what the write scenarios added (their sessions and notifications cascade)."""
    seed.execute(
        database,
        ["DELETE FROM interview_requests WHERE note IN ('bench:create', 'bench:accept')"],
    )


def prepare_accept_targets(world: World) -> Path:
    """Fresh OPEN requests for the contended accept, an hour apart so few conflict."""
    database = world.database
    now = datetime.now(UTC).replace(microsecond=0)
    rows = []
    ids = []
    for k in range(ACCEPT_TARGETS):
        rid = str(uuid.uuid4())
        ids.append(rid)
        scheduled = now + timedelta(days=2, hours=k)
        rows.append(
            {
                "id": rid,
                "owner": world.interviewees[k % len(world.interviewees)],
                "scheduled": db_time(database, scheduled),
                "expires": db_time(database, scheduled - timedelta(hours=5)),
                "now": db_time(database, now),
            }
        )
    seed.execute(
        database,
        [
            (
                "INSERT INTO interview_requests (id, interviewee_id, category, difficulty, type, "
                "scheduled_at, duration_minutes, note, status, expires_at, accepted_at, "
                "created_at, updated_at) VALUES (:id, :owner, 'arrays', 'MEDIUM', 'CODING', "
                ":scheduled, 60, 'bench:accept', 'OPEN', :expires, NULL, :now, :now)",
                rows,
            )
        ],
    )
    path = WORK / f"wrk-targets-{database.kind}.lua"
    path.write_text("return {" + ",".join(json.dumps(i) for i in ids) + "}\n")
    return path


# --------------------------------------------------------------------------- wrk


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    statuses: dict[int, int]
    socket_errors: int
    errors: int

    def brief(self) -> str:
        codes = ", ".join(f"{c}: {n}" for c, n in sorted(self.statuses.items()))
        return (
            f"{self.rps:,.0f} req/s, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms [{codes}]"
        )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", value)
    if not match:
        raise ValueError(f"latency {value!r}")
    return float(match.group(1)) * _UNITS[match.group(2)]


def parse_wrk(output: str, scenario: str) -> Result:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    statuses = {int(c): int(n) for c, n in re.findall(r"^STATUS (\d+) (\d+)$", output, re.M)}
    socket = 0
    match = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    if match:
        socket = sum(int(g) for g in match.groups())
    expected = EXPECTED.get(scenario, set())
    bad = sum(n for c, n in statuses.items() if not (200 <= c < 400) and c not in expected)
    return Result(rps, p50, p99, requests, statuses, socket, bad + socket)


def wrk(
    base: str, scenario: str, world: World, duration: int, targets: Path | None = None
) -> Result:
    env = {
        "BENCH_DATA": str(world.data_file),
        "BENCH_SCENARIO": scenario,
        "BENCH_THREADS": str(WRK_THREADS),
        "PATH": "/usr/bin:/bin",
    }
    if targets is not None:
        env["BENCH_TARGETS"] = str(targets)
    connections = CONNECTIONS.get(scenario, WRK_CONNECTIONS)
    argv = ["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{duration}s", "--latency"]
    argv += ["--timeout", "30s", "-s", str(BENCH / "wrk.lua"), base]
    out = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if out.returncode != 0 or "Requests/sec" not in out.stdout:
        raise RuntimeError(f"wrk failed: {out.stdout}\n{out.stderr}")
    return parse_wrk(out.stdout, scenario)


def wait_idle(server: Server, database: Database, timeout: float = 90) -> None:
    """Wait until the server has worked off what wrk left in flight when it stopped.

    wrk closes its connections at the deadline, but the requests already read go on: a
    backlog of logins, say, would otherwise eat into the next measurement (and Peerview
    counts a login in progress as a failure of its address until it succeeds).
    """
    deadline = time.monotonic() + timeout
    quiet = 0
    while time.monotonic() < deadline and quiet < 2:
        before = cpu_seconds(server.pids())
        time.sleep(0.3)
        busy = (cpu_seconds(server.pids()) - before) / 0.3
        if database.kind == "postgresql":
            try:
                busy += active_queries(database)
            except Exception as exc:  # a shared server may refuse one more connection
                log(f"active queries unknown ({exc.__class__.__name__})")
        quiet = quiet + 1 if busy < 0.05 else 0


def active_queries(database: Database) -> int:
    rows = seed.execute(
        database,
        [
            (
                "SELECT count(*) FROM pg_stat_activity WHERE datname = :name "
                "AND state = 'active' AND pid <> pg_backend_pid()",
                {"name": database.name},
            )
        ],
    )[0]
    return int(rows[0][0])


# --------------------------------------------------------------------------- checks


def call(base: str, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + path, method=method, data=data)  # noqa: S310
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def shape(value: Any) -> Any:
    """The structure of a JSON value: keys and kinds, not contents."""
    if isinstance(value, dict):
        return {k: shape(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(value[0])] if value else []
    if value is None:
        return "null"
    return type(value).__name__


def _same_shape(a: Any, b: Any) -> bool:
    # A null where the other side has a value is still the same shape (a nullable field).
    if a == "null" or b == "null":
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_shape(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return not a or not b or _same_shape(a[0], b[0])
    if {a, b} <= {"int", "float"}:
        return True
    return bool(a == b)


def preflight(world: World, servers: dict[str, Server], analytics: bool) -> list[str]:
    """One request of each scenario to both servers: same status and same JSON shape."""
    notes: list[str] = []
    tokens = world.tokens
    sid, interviewer, _ = world.sessions[0]
    at = (datetime.now(UTC) + timedelta(hours=5, seconds=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    create = {
        "category": "Arrays",
        "difficulty": "MEDIUM",
        "scheduled_at": at,
        "note": "bench:create",
    }
    checks: list[tuple[str, str, str, str | None, Any]] = [
        ("open", "GET", "/api/interview-requests/open", tokens[world.interviewers[0]], None),
        ("session", "GET", f"/api/interview-sessions/{sid}", tokens[interviewer], None),
        ("create", "POST", "/api/interview-requests", tokens[world.interviewees[-1]], create),
        (
            "accept",
            "POST",
            "/api/interview-requests/{target}/accept",
            tokens[world.interviewers[1]],
            None,
        ),
        (
            "login",
            "POST",
            "/api/auth/login",
            None,
            {"email": world.emails[0], "password": PASSWORD},
        ),
    ]
    if analytics:
        checks.append(("analytics", "GET", "/api/analytics/platform", tokens[world.admin], None))
    ids: list[str] = []
    for scenario, method, path, token, body in checks:
        if scenario == "accept":
            # Made only now: their owners' OPEN requests would refuse the create check.
            ids = re.findall(r'"([^"]+)"', prepare_accept_targets(world).read_text())
        answers = {}
        for k, (name, server) in enumerate(servers.items()):
            target_path = path.replace("{target}", ids[k]) if ids else path
            answers[name] = call(server.base, method, target_path, token, body)
        (ps, pb), (es, eb) = answers["peerview"], answers["express"]
        if ps != es or not _same_shape(shape(pb), shape(eb)):
            notes.append(
                f"{scenario}: Peerview {ps} {json.dumps(shape(pb))[:300]} / "
                f"Express {es} {json.dumps(shape(eb))[:300]}"
            )
        elif not 200 <= ps < 300:
            notes.append(f"{scenario}: both answered {ps}")
    cleanup(world.database)
    return notes


def has_analytics(server: Server) -> bool:
    try:
        status, schema = call(server.base, "GET", "/openapi.json")
    except (urllib.error.URLError, ValueError):
        return False
    return status == 200 and "/api/analytics/platform" in schema.get("paths", {})


# --------------------------------------------------------------------------- driver

Key = tuple[str, str, int]  # (scenario, database kind, processes)


@dataclass
class Report:
    mode: Mode
    rows: dict[Key, dict[str, Result]] = field(default_factory=dict)
    skipped: dict[Key, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)


def measure(
    report: Report, world: World, servers: dict[str, Server], processes: int, analytics: bool
) -> None:
    mode = report.mode
    kind = world.database.kind
    for index, scenario in enumerate(SCENARIOS):
        key = (scenario, kind, processes)
        if scenario == "analytics" and not analytics:
            report.skipped[key] = "not available: Peerview has no GET /api/analytics/platform yet"
            continue
        order = ["peerview", "express"] if (index + processes) % 2 == 0 else ["express", "peerview"]
        report.rows[key] = {}
        for name in order:
            server = servers[name]
            targets = prepare_accept_targets(world) if scenario == "accept" else None
            # No warm-up where it warms nothing (argon2) or leaves a long backlog (analytics).
            if mode.warmup and scenario not in ("login", "analytics"):
                wrk(server.base, scenario, world, mode.warmup, targets)
                wait_idle(server, world.database)
                cleanup(world.database)
                targets = prepare_accept_targets(world) if scenario == "accept" else None
            result = wrk(server.base, scenario, world, mode.duration, targets)
            wait_idle(server, world.database)
            cleanup(world.database)
            report.rows[key][name] = result
            log(f"{scenario:9} {kind:10} {processes}p {name:8} {result.brief()}")


def run_database(report: Report, database: Database) -> None:
    seed.ensure(database, report.mode.plan)
    cleanup(database)
    world = load_world(database)
    for processes in report.mode.processes:
        servers: dict[str, Server] = {}
        try:
            servers["peerview"] = start_peerview(database, PEERVIEW_PORT, processes)
            servers["express"] = start_express(database, EXPRESS_PORT, processes)
            analytics = has_analytics(servers["peerview"])
            for note in preflight(world, servers, analytics):
                report.notes.append(f"{database.kind}, {processes} process(es): {note}")
                log(f"shape check: {note}")
            measure(report, world, servers, processes, analytics)
        finally:
            for server in servers.values():
                server.stop()


def fmt_rps(value: float) -> str:
    return f"{value:,.0f}"


def render(report: Report) -> str:
    mode = report.mode
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    lines = [
        f"# Peerview vs Express: {mode.name} run of {when}",
        "",
        f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{mode.duration}s --latency (after a "
        f"{mode.warmup} s warm-up but for login and analytics; timeout 30 s), both servers "
        "over the same database (analytics: 4 connections); seed: "
        f"{mode.plan.users:,} users, {mode.plan.requests:,} requests, {mode.plan.sessions:,} "
        "sessions. Errors: non-2xx/3xx answers (except accept's expected 409s), socket errors "
        "and timeouts.",
        "",
        "| scenario | database | processes | Peerview req/s | p50 ms | p99 ms | errors "
        "| Express req/s | p50 ms | p99 ms | errors | Peerview/Express |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    ratio_lines = []
    for database in mode.databases:
        for processes in mode.processes:
            for scenario in SCENARIOS:
                key = (scenario, database.kind, processes)
                if key in report.skipped:
                    lines.append(
                        f"| {scenario} | {database.kind} | {processes} | "
                        f"{report.skipped[key]} ||||||||"
                    )
                    continue
                pair = report.rows.get(key)
                if not pair or len(pair) < 2:
                    continue
                p, e = pair["peerview"], pair["express"]
                ratio = p.rps / e.rps if e.rps else 0.0
                lines.append(
                    f"| {scenario} | {database.kind} | {processes} | {fmt_rps(p.rps)} | "
                    f"{p.p50_ms:.1f} | {p.p99_ms:.1f} | {p.errors} | {fmt_rps(e.rps)} | "
                    f"{e.p50_ms:.1f} | {e.p99_ms:.1f} | {e.errors} | {ratio:.2f} |"
                )
                ratio_lines.append(
                    f"RATIO {scenario} {database.kind} {processes} {p.rps:.1f} {e.rps:.1f} "
                    f"{ratio:.3f}"
                )
    lines += ["", "Scenarios:", ""]
    lines += [f"- `{name}`: {title}" for name, title in SCENARIO_TITLES.items()]
    accept = [(k, r) for k, r in report.rows.items() if k[0] == "accept" and len(r) == 2]
    if accept:
        lines += ["", "Accept under contention, answers by status (201 won, 409 lost):", ""]
        for (_, kind, processes), pair in accept:
            for name, result in pair.items():
                codes = ", ".join(f"{c}: {n:,}" for c, n in sorted(result.statuses.items()))
                lines.append(f"- {kind}, {processes} process(es), {name}: {codes}")
    if report.notes:
        lines += ["", "Shape checks that differed (one request of each scenario to both):", ""]
        lines += [f"- {note}" for note in report.notes]
    lines += ["", "```", *ratio_lines, "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small seeds, short runs")
    parser.add_argument("--no-scale", action="store_true", help="skip bench/scale.py")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], help="only this one")
    parser.add_argument(
        "--scenarios", help=f"comma-separated subset of {','.join(SCENARIOS)} (a partial run)"
    )
    parser.add_argument("--processes", type=int, choices=[1, 2], help="only this count")
    args = parser.parse_args(argv)
    mode = QUICK if args.quick else FULL
    if args.database:
        dbs = tuple(d for d in mode.databases if d.kind == args.database)
        mode = dataclasses.replace(mode, databases=dbs)
    if args.processes:
        mode = dataclasses.replace(mode, processes=(args.processes,))
    if args.scenarios:
        wanted = args.scenarios.split(",")
        unknown = set(wanted) - set(SCENARIOS)
        if unknown:
            parser.error(f"unknown scenario(s): {', '.join(sorted(unknown))}")
        SCENARIOS[:] = [s for s in SCENARIOS if s in wanted]
    if args.scenarios or args.processes or args.database:
        # Part of a run is not the run: bench/results/latest.md keeps the last whole one.
        mode = dataclasses.replace(mode, output=WORK / f"partial-{mode.name}.md")
        args.no_scale = True
    WORK.mkdir(parents=True, exist_ok=True)
    ensure_tools()
    report = Report(mode)
    for database in mode.databases:
        run_database(report, database)
    text = render(report)
    print(text)
    if not args.no_scale:
        cmd = [str(PYTHON), str(BENCH / "scale.py")] + (["--quick"] if args.quick else [])
        scale = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
        sys.stderr.write(scale.stderr)
        print(scale.stdout)
        text += "\n" + scale.stdout
        if scale.returncode != 0:
            text += f"\nscale.py exited with {scale.returncode}\n"
    elapsed = time.monotonic() - report.started
    text += f"\nWhole run: {elapsed / 60:.1f} minutes.\n"
    mode.output.parent.mkdir(parents=True, exist_ok=True)
    mode.output.write_text(text)
    log(f"written to {mode.output.relative_to(ROOT)} ({elapsed / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
