"""Scale benchmarks: the sweeper over a million sessions, signaling relay latency, memory,
and GET /api/analytics/platform over the HTTP seed and the same seed doubled.

Prints a markdown section and machine-readable lines (`SWEEP`, `RELAY`, `MEMORY`,
`ANALYTICS`, `CODEPAD`); `bench/run.py` appends them to its results. Run alone:
`.venv/bin/python bench/scale.py [--only sweeper|realtime|relay|analytics|codepad]`
(`--database-prefix` to bench on databases of one's own). The relay is measured for one room
at a time and for a burst across every room, on one process and on two processes through
Redis; each gives p50 and p99 (`RELAY` lines). The code pad's figures: bench/codepad.py.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import codepad
import httpx
import lean_socket
import seed
from common import (
    BENCH,
    JWT_SECRET,
    PYTHON,
    Database,
    Server,
    log,
    rss_kib,
    start_express,
    start_peerview,
    token_for,
    wait_machine_quiet,
)

from peerview.clock import FakeClock, SystemClock
from peerview.config import Settings
from peerview.events import EventBus
from peerview.jobs.sweeper import sweep_once
from peerview.main import create_app

REDIS_URL = "redis://127.0.0.1:6379/14"
RELAY_PORTS = (18111, 18112)


@dataclass(frozen=True)
class Sizes:
    sweep_plan: seed.Plan
    sweep_dues: tuple[int, ...]
    http_plan: seed.Plan
    http_name: str
    scale_name: str
    rooms: int
    bursts: int
    singles: int
    # The analytics figure: (database name, plan) of the seed and of the seed doubled.
    analytics: tuple[tuple[str, seed.Plan], ...] = ()
    analytics_calls: int = 100


FULL = Sizes(
    seed.SCALE_FULL,
    (1_000, 100_000),
    seed.HTTP_FULL,
    "bench",
    "bench_scale",
    rooms=500,
    bursts=10,
    singles=500,
    analytics=(("bench_analytics", seed.HTTP_FULL), ("bench_analytics_x2", seed.HTTP_FULL_X2)),
)
QUICK = Sizes(
    seed.SCALE_QUICK,
    (100, 2_000),
    seed.HTTP_QUICK,
    "bench_quick",
    "bench_scale_quick",
    rooms=20,
    bursts=3,
    singles=100,
    analytics=(
        ("bench_analytics_quick", seed.HTTP_QUICK),
        ("bench_analytics_quick_x2", seed.HTTP_QUICK_X2),
    ),
    analytics_calls=30,
)
for _sizes in (FULL, QUICK):
    _plan = _sizes.sweep_plan
    # The first sweep must end exactly at the plan's gap; the second takes every due session.
    assert _sizes.sweep_dues == (2 * _plan.due_gap_after, _plan.due_live + _plan.due_no_show)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


# --------------------------------------------------------------------------- the sweeper


def _reset_sweep(database: Database, base: datetime, plan: seed.Plan) -> None:
    """Put the due sessions back as they were seeded, and forget the sweep's notifications."""
    window = seed.due_offset(plan, max(plan.due_live, plan.due_no_show))

    def at(value: datetime) -> Any:
        return seed.sqlite_time(value) if database.kind == "sqlite" else value

    seed.execute(
        database,
        [
            (
                "UPDATE interview_sessions SET status = 'LIVE', ended_at = NULL, "
                "end_reason = NULL, version = 0 WHERE status = 'COMPLETED' "
                "AND end_reason = 'AUTO_TIMEOUT' AND hard_end_at >= :a AND hard_end_at < :b",
                {"a": at(base), "b": at(base + window)},
            ),
            (
                "UPDATE interview_sessions SET status = 'SCHEDULED', ended_at = NULL, "
                "end_reason = NULL, version = 0 WHERE status = 'CANCELLED' "
                "AND end_reason = 'NO_SHOW' AND scheduled_at >= :a AND scheduled_at < :b",
                {"a": at(base - seed.NO_SHOW), "b": at(base - seed.NO_SHOW + window)},
            ),
            "DELETE FROM notifications",
        ],
    )
    if database.kind == "postgresql":
        # The reset rewrote up to 100,000 rows: vacuum and re-analyse as autovacuum would, or
        # the next sweep pays for dead tuples and stale statistics that only the reset made.
        async def vacuum() -> None:
            conn = await asyncpg.connect(database.plain_url)
            try:
                await conn.execute("VACUUM ANALYZE interview_sessions")
                await conn.execute("VACUUM ANALYZE notifications")
            finally:
                await conn.close()

        asyncio.run(vacuum())


async def _sweep(database: Database, when: datetime, subscribers: bool) -> tuple[float, int, Any]:
    settings = Settings(
        database_url=database.url,
        jwt_secret=JWT_SECRET,
        peerview_env="production",
        sweeper_enabled=False,
        redis_url=None,
    )
    clock = FakeClock(when)
    app = create_app(settings, clock)
    peerview_database = app.services.database
    events = app.services.events if subscribers else EventBus()
    statements = 0

    def count(*_: Any) -> None:
        nonlocal statements
        statements += 1

    peerview_database.listeners.append(count)
    try:
        started = time.perf_counter()
        result = await sweep_once(
            database=peerview_database, clock=clock, settings=settings, events=events
        )
        elapsed = time.perf_counter() - started
    finally:
        app.services.passwords.close()
        await peerview_database.close()
    return elapsed, statements, result


def sweeper(sizes: Sizes, lines: list[str], machine: list[str]) -> None:
    plan = sizes.sweep_plan
    lines += [
        "### The sweeper",
        "",
        f"`sweep_once` called directly over {plan.sessions:,} sessions (and as many accepted "
        "requests); half of the due sessions are LIVE past `hard_end_at`, half SCHEDULED past "
        "the no-show deadline. *Bare bus*: the sweep's own SQL; *with subscribers*: the app's "
        "event bus as `create_app` wires it (notifications stored in the same transactions, "
        "realtime pushes after commit, no socket connected). Statements counted with a "
        "`before_cursor_execute` listener.",
        "",
        "| database | sessions | due | event bus | transitions | seconds | SQL statements "
        "| ms per transition |",
        "|---|---:|---:|---|---:|---:|---:|---:|",
    ]
    for kind in ("sqlite", "postgresql"):
        database = Database(kind, sizes.scale_name)
        seeded_at = seed.ensure(database, plan)
        base = seed.scale_base(seeded_at)
        runs = [(due, False) for due in sizes.sweep_dues] + [(sizes.sweep_dues[0], True)]
        for due, subscribers in runs:
            _reset_sweep(database, base, plan)
            each = due // 2
            when = base + seed.due_offset(plan, each - 1) + timedelta(seconds=1)
            elapsed, statements, result = asyncio.run(_sweep(database, when, subscribers))
            moved = len(result.auto_timed_out) + len(result.no_shows)
            bus = "with subscribers" if subscribers else "bare"
            per = elapsed * 1000 / moved if moved else float("nan")
            lines.append(
                f"| {kind} | {plan.sessions:,} | {due:,} | {bus} | {moved:,} | {elapsed:.2f} "
                f"| {statements:,} | {per:.2f} |"
            )
            machine.append(
                f"SWEEP {kind} {plan.sessions} {due} {bus.replace(' ', '-')} {moved} "
                f"{elapsed:.3f} {statements}"
            )
            log(f"sweep {kind} due={due} {bus}: {moved} moved in {elapsed:.2f} s, {statements} SQL")
        _reset_sweep(database, base, plan)
    lines.append("")


# --------------------------------------------------------------------------- realtime


@dataclass
class Room:
    session_id: str
    interviewer: str
    interviewee: str


def _make_rooms(database: Database, count: int) -> list[Room]:
    """Joinable sessions (SCHEDULED a week ahead) for the relay, marked for removal."""
    users = seed.execute(database, ["SELECT id, role FROM users ORDER BY email"])[0]
    interviewers = [u[0] for u in users if u[1] == "INTERVIEWER"]
    interviewees = [u[0] for u in users if u[1] == "INTERVIEWEE"]
    now = datetime.now(UTC).replace(microsecond=0)
    requests, sessions, rooms = [], [], []
    for k in range(count):
        rid, sid = str(uuid.uuid4()), str(uuid.uuid4())
        scheduled = now + timedelta(days=7, minutes=k)
        interviewer = interviewers[k % len(interviewers)]
        interviewee = interviewees[k % len(interviewees)]

        def at(value: datetime) -> Any:
            return seed.sqlite_time(value) if database.kind == "sqlite" else value

        common_values = {"scheduled": at(scheduled), "now": at(now), "ie": interviewee}
        requests.append({"id": rid, "expires": at(scheduled - timedelta(hours=5)), **common_values})
        sessions.append(
            {
                "id": sid,
                "rid": rid,
                "iv": interviewer,
                "end": at(scheduled + timedelta(minutes=60)),
                **common_values,
            }
        )
        rooms.append(Room(sid, interviewer, interviewee))
    seed.execute(
        database,
        [
            (
                "INSERT INTO interview_requests (id, interviewee_id, category, difficulty, type, "
                "scheduled_at, duration_minutes, note, status, expires_at, accepted_at, "
                "created_at, updated_at) VALUES (:id, :ie, 'arrays', 'MEDIUM', 'CODING', "
                ":scheduled, 60, 'bench:realtime', 'ACCEPTED', :expires, :now, :now, :now)",
                requests,
            ),
            (
                "INSERT INTO interview_sessions (id, request_id, interviewer_id, interviewee_id, "
                "category, difficulty, type, status, scheduled_at, duration_minutes, "
                "scheduled_end_at, extended_minutes, version, created_at, updated_at) VALUES "
                "(:id, :rid, :iv, :ie, 'arrays', 'MEDIUM', 'CODING', 'SCHEDULED', :scheduled, "
                "60, :end, 0, 0, :now, :now)",
                sessions,
            ),
        ],
    )
    return rooms


def _drop_rooms(database: Database) -> None:
    seed.execute(database, ["DELETE FROM interview_requests WHERE note = 'bench:realtime'"])


class Relay:
    """1 client per participant; interviewers signal, interviewees time the arrival."""

    def __init__(self, rooms: list[Room]) -> None:
        self.rooms = rooms
        self.clients: list[Any] = []
        self.pairs: list[tuple[Any, Any]] = []
        self.latencies: list[float] = []
        self.arrived = 0
        self.sent = 0
        self.refused = 0
        self.connect_seconds = 0.0
        self._target = 0
        self._all_arrived = asyncio.Event()

    async def connect(self, urls: tuple[str, str]) -> None:
        async def one(url: str, user_id: str, session_id: str, listen: bool) -> Any:
            client = await lean_socket.connect(url, {"token": token_for(user_id)})
            if listen:
                client.on("signal", self._received)
            ack = await client.call("join", {"session_id": session_id})
            if not isinstance(ack, dict) or not ack.get("ok"):
                raise RuntimeError(f"join refused: {ack}")
            return client

        started = time.perf_counter()
        batch = 25
        for i in range(0, len(self.rooms), batch):
            chunk = self.rooms[i : i + batch]
            interviewers = await asyncio.gather(
                *(one(urls[0], r.interviewer, r.session_id, False) for r in chunk)
            )
            interviewees = await asyncio.gather(
                *(one(urls[1], r.interviewee, r.session_id, True) for r in chunk)
            )
            self.pairs += list(zip(interviewers, interviewees, strict=True))
            self.clients += [*interviewers, *interviewees]
        self.connect_seconds = time.perf_counter() - started

    def _received(self, data: Any) -> None:
        sent = data.get("data", {}).get("t") if isinstance(data, dict) else None
        if isinstance(sent, float):
            self.latencies.append(time.perf_counter() - sent)
        self.arrived += 1
        if self.arrived >= self._target:
            self._all_arrived.set()

    def _acked(self, *args: Any) -> None:
        if not (args and isinstance(args[0], dict) and args[0].get("ok")):
            self.refused += 1

    async def burst(self, rooms: range) -> float:
        """Each room of `rooms` signals at once; seconds until all signals arrived.

        Every signal's send time is taken before the first is sent: a signal's latency counts
        the wait behind the ones sent before it, in this client as in the server.
        """
        chosen = [(self.pairs[k][0], self.rooms[k]) for k in rooms]
        self._target = self.arrived + len(chosen)
        self._all_arrived = asyncio.Event()
        self.sent += len(chosen)
        started = time.perf_counter()
        frames = [
            (
                sender,
                sender.event_frame(
                    "signal",
                    {
                        "session_id": room.session_id,
                        "type": "offer",
                        "data": {"t": time.perf_counter(), "sdp": "v=0 bench"},
                    },
                    self._acked,
                ),
            )
            for sender, room in chosen
        ]
        for sender, data in frames:
            sender.write(data)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._all_arrived.wait(), timeout=30)
        return time.perf_counter() - started

    async def close(self) -> None:
        await asyncio.gather(*(c.disconnect() for c in self.clients), return_exceptions=True)


@dataclass(frozen=True)
class RelayFigures:
    """Latencies (ms) of one relay run: one room at a time, then every room at once."""

    connect_s: float
    single: list[float]
    burst: list[float]
    burst_span_ms: float
    lost: int
    refused: int
    load: float  # the machine's 1-minute load average when the run ended


async def _relay_run(
    rooms: list[Room],
    urls: tuple[str, str],
    bursts: int,
    singles: int,
    on_connected: Callable[[], None],
) -> RelayFigures:
    relay = Relay(rooms)
    try:
        await relay.connect(urls)
        on_connected()
        # The client's thousand sockets are long-lived: kept out of its garbage collector's
        # sweeps, so the measuring side's pauses do not count as the relay's.
        gc.collect()
        gc.freeze()
        # Other work of the machine (autovacuum after the sweeper) out of the way first.
        waited = await asyncio.to_thread(wait_machine_quiet)
        if waited > 5:
            log(f"relay: waited {waited:.0f} s for the machine to be quiet")
        # One room at a time first, each room in turn: the relay's latency with nothing
        # else going on.
        for n in range(singles):
            await relay.burst(range(n % len(rooms), n % len(rooms) + 1))
            await asyncio.sleep(0.02)
        single = [s * 1000 for s in relay.latencies]
        relay.latencies.clear()
        spans = []
        for _ in range(bursts):
            spans.append(await relay.burst(range(len(rooms))))
            await asyncio.sleep(0.5)
        return RelayFigures(
            connect_s=relay.connect_seconds,
            single=single,
            burst=[s * 1000 for s in relay.latencies],
            burst_span_ms=statistics.median(spans) * 1000,
            lost=relay.sent - relay.arrived,
            refused=relay.refused,
            load=os.getloadavg()[0],
        )
    finally:
        gc.unfreeze()
        await relay.close()


def start_relay_anchor(port: int, module: str = "relay_anchor") -> Server:
    """`bench/<module>.py` (the bare python-socketio relay, or the bare ASGI one) served by
    granian on one process, as Peerview is served."""
    argv = [str(PYTHON), "-m", "granian", "--interface", "asgi", "--http", "1", "--ws"]
    argv += ["--port", str(port), "--log-level", "warning", "--working-dir", str(BENCH)]
    argv += [f"{module}:app"]
    server = Server(module.replace("_", "-"), argv, dict(os.environ), port)
    try:
        server.wait_ready("/" if module == "relay_floor" else "/socket.io/?EIO=4&transport=polling")
    except BaseException:
        server.stop()
        raise
    return server


def _realtime_available(server: Server) -> bool:
    import urllib.error
    import urllib.request

    url = f"{server.base}/socket.io/?EIO=4&transport=polling"
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (loopback)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def tree_rss_kib(server: Server) -> int:
    """Resident memory of a server's process and its children (its workers)."""
    return sum(rss_kib(pid) for pid in server.pids())


def idle_memory(sizes: Sizes, machine: list[str]) -> list[tuple[str, str]]:
    """One idle server of Peerview and of the Express anchor, on each database: the resident
    memory of its whole process tree (granian's supervisor and its worker for Peerview)."""
    memory: list[tuple[str, str]] = []
    for kind in ("sqlite", "postgresql"):
        db = Database(kind, sizes.http_name)
        seed.ensure(db, sizes.http_plan)
        for label, starter in (("Peerview", start_peerview), ("Express", start_express)):
            server = starter(db, RELAY_PORTS[0], 1)
            try:
                time.sleep(2)
                rss = tree_rss_kib(server)
            finally:
                server.stop()
            memory.append((f"{label}, idle, one worker ({kind})", f"{rss / 1024:.0f} MiB"))
            machine.append(f"MEMORY idle {label.lower()} {kind} {rss}")
    return memory


def realtime(
    sizes: Sizes, lines: list[str], machine: list[str], *, with_idle_memory: bool = True
) -> None:
    lines += ["### Signaling relay and memory", ""]
    database = Database("postgresql", sizes.http_name)
    seed.ensure(database, sizes.http_plan)
    memory = idle_memory(sizes, machine) if with_idle_memory else []

    probe = start_peerview(database, RELAY_PORTS[0], 1)
    try:
        available = _realtime_available(probe)
    finally:
        probe.stop()
    if not available:
        lines.append("Realtime not available: Peerview answers no Socket.IO handshake yet.")
        machine.append("RELAY not-available")
    else:
        _drop_rooms(database)
        rooms = _make_rooms(database, sizes.rooms)
        lines += [
            f"{sizes.rooms} rooms (sessions), {2 * sizes.rooms} Socket.IO clients "
            "(websocket transport, `bench/lean_socket.py`: raw frames, a few µs a message) in "
            "one client process on the same machine; interviewers send `signal`, interviewees "
            "time its arrival (from just before the client sends it). *One room*: "
            f"{sizes.singles} signals, one room at a time, each room in turn; *burst*: every "
            f"room at once, {sizes.bursts} times. PostgreSQL. Latencies in ms. *Bare "
            "python-socketio*: the same client against `bench/relay_anchor.py`, a relay with no "
            "rule at all on python-socketio as the library ships; *bare ASGI*: "
            "`bench/relay_floor.py`, the same relay with no Socket.IO stack, straight on "
            "granian: the floor of this measurement.",
            "",
            "| setup | connect + join (s) | one room p50 | one room p99 | burst p50 "
            "| burst p99 | burst span | lost | refused |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        try:
            # One process: both sides on the same server.
            server = start_peerview(database, RELAY_PORTS[0], 1)
            try:
                time.sleep(1)
                idle = tree_rss_kib(server)
                connected: list[int] = []
                urls = (server.base, server.base)
                figures = asyncio.run(
                    _relay_run(
                        rooms,
                        urls,
                        sizes.bursts,
                        sizes.singles,
                        lambda: connected.append(tree_rss_kib(server)),
                    )
                )
            finally:
                server.stop()
            _relay_lines("one process", sizes.rooms, figures, lines, machine)
            per_socket = (connected[0] - idle) / (2 * sizes.rooms) if connected else 0
            memory.append(
                (
                    f"Peerview, per connected and joined socket ({2 * sizes.rooms} sockets)",
                    f"{per_socket:.0f} KiB",
                )
            )
            machine.append(f"MEMORY per-socket peerview postgresql {per_socket:.1f}")
            _drop_rooms(database)
            rooms = _make_rooms(database, sizes.rooms)
            # Two processes through Redis: interviewers on one, interviewees on the other.
            extra = {
                "REDIS_URL": REDIS_URL,
                "SOCKETIO_CHANNEL": f"peerview-bench-{uuid.uuid4().hex[:8]}",
            }
            servers = [start_peerview(database, port, 1, **extra) for port in RELAY_PORTS]
            try:
                urls = (servers[0].base, servers[1].base)
                figures = asyncio.run(
                    _relay_run(rooms, urls, sizes.bursts, sizes.singles, lambda: None)
                )
            finally:
                for s in servers:
                    s.stop()
            _relay_lines("two processes, Redis", sizes.rooms, figures, lines, machine)
            # The references: the same client against a bare python-socketio relay, then a
            # relay with no Socket.IO stack at all.
            for label, module in (
                ("bare python-socketio", "relay_anchor"),
                ("bare ASGI", "relay_floor"),
            ):
                _drop_rooms(database)
                rooms = _make_rooms(database, sizes.rooms)
                reference = start_relay_anchor(RELAY_PORTS[0], module)
                try:
                    urls = (reference.base, reference.base)
                    figures = asyncio.run(
                        _relay_run(rooms, urls, sizes.bursts, sizes.singles, lambda: None)
                    )
                finally:
                    reference.stop()
                _relay_lines(label, sizes.rooms, figures, lines, machine)
        finally:
            _drop_rooms(database)
    lines += ["", "| memory | RSS |", "|---|---:|"]
    lines += [f"| {what} | {value} |" for what, value in memory]
    lines.append("")


def _relay_lines(
    setup: str, rooms: int, figures: RelayFigures, lines: list[str], machine: list[str]
) -> None:
    """The table's row, and one machine-readable line per scope:

    `RELAY setup=<setup> scope=one-room|burst rooms=<n> samples=<n> p50_ms=<x> p99_ms=<x>
    max_ms=<x> lost=<n> refused=<n> load=<x>` (the burst's line also has `span_ms`, the median
    time until a whole burst had arrived; `load` is the machine's 1-minute load average, as the
    figures of a shared machine depend on it).
    """
    single, burst = figures.single, figures.burst
    lines.append(
        f"| {setup} | {figures.connect_s:.1f} | {percentile(single, 50):.2f} | "
        f"{percentile(single, 99):.2f} | {percentile(burst, 50):.1f} | "
        f"{percentile(burst, 99):.1f} | {figures.burst_span_ms:.0f} | {figures.lost} | "
        f"{figures.refused} |"
    )
    name = setup.replace(" ", "-").replace(",", "")
    for scope, values, extra in (
        ("one-room", single, ""),
        ("burst", burst, f" span_ms={figures.burst_span_ms:.1f}"),
    ):
        machine.append(
            f"RELAY setup={name} scope={scope} rooms={1 if scope == 'one-room' else rooms} "
            f"samples={len(values)} p50_ms={percentile(values, 50):.2f} "
            f"p99_ms={percentile(values, 99):.2f} max_ms={max(values, default=float('nan')):.2f}"
            f" lost={figures.lost} refused={figures.refused} load={figures.load:.2f}{extra}"
        )
    log(
        f"relay {setup}: one room p50 {percentile(single, 50):.2f} ms p99 "
        f"{percentile(single, 99):.2f} ms; burst of {rooms} p50 {percentile(burst, 50):.1f} ms "
        f"p99 {percentile(burst, 99):.1f} ms; lost {figures.lost}, refused {figures.refused}; "
        f"load {figures.load:.2f}"
    )


def named(sizes: Sizes, prefix: str) -> Sizes:
    """`sizes` with its databases named from `prefix` rather than "bench"."""
    return replace(
        sizes,
        http_name=prefix + sizes.http_name.removeprefix("bench"),
        scale_name=prefix + sizes.scale_name.removeprefix("bench"),
        analytics=tuple(
            (prefix + name.removeprefix("bench"), plan) for name, plan in sizes.analytics
        ),
    )


# --------------------------------------------------------------------------- analytics

ANALYTICS_PORTS = (18131, 18132)
PLATFORM = "/api/analytics/platform"


def _admin_token(database: Database) -> str:
    rows = seed.execute(database, ["SELECT id FROM users WHERE role = 'ADMIN' ORDER BY email"])[0]
    return token_for(rows[0][0])


def _period(seeded_at: datetime) -> dict[str, str]:
    """30 days that end mid-day two days before seeding: whole days and two part days."""
    end = seeded_at.replace(microsecond=0) - timedelta(days=2, hours=3, minutes=17)
    return {"from": (end - timedelta(days=30)).isoformat(), "to": end.isoformat()}


@dataclass
class _Target:
    """One series of calls: a database and the query string to ask it."""

    database: Database
    token: str
    params: dict[str, str]
    times: list[float]
    statements: int = 0


async def _time_in_process(targets: list[_Target], calls: int) -> None:
    """Each target's `calls` GETs (after 5 warm-up calls), in process, taken in turns, so that
    every series sees the same load of a shared machine."""
    apps = [
        create_app(
            Settings(
                database_url=target.database.url,
                jwt_secret=JWT_SECRET,
                peerview_env="production",
                sweeper_enabled=False,
                redis_url=None,
                _env_file=None,  # type: ignore[call-arg]
            ),
            SystemClock(),
        )
        for target in targets
    ]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench")
        for app in apps
    ]

    def counter(target: _Target) -> Callable[..., None]:
        def count(*_: Any) -> None:
            target.statements += 1

        return count

    async def call(client: httpx.AsyncClient, target: _Target) -> float:
        headers = {"Authorization": f"Bearer {target.token}"}
        started = time.perf_counter()
        response = await client.get(PLATFORM, params=target.params, headers=headers)
        elapsed = (time.perf_counter() - started) * 1000
        response.raise_for_status()
        return elapsed

    try:
        for client, target in zip(clients, targets, strict=True):
            for _ in range(5):
                await call(client, target)
        for app, target in zip(apps, targets, strict=True):
            app.services.database.listeners.append(counter(target))
        for _ in range(calls):
            for client, target in zip(clients, targets, strict=True):
                target.times.append(await call(client, target))
    finally:
        for client in clients:
            await client.aclose()
        for app in apps:
            app.services.passwords.close()
            await app.services.database.close()


def _rate(server: Server, token: str, seconds: float, at_least: int) -> float:
    """Answers a second to one client asking one after another."""
    request = urllib.request.Request(  # noqa: S310 (loopback)
        server.base + PLATFORM, headers={"Authorization": f"Bearer {token}"}
    )
    done = 0
    started = time.perf_counter()
    while done < at_least or time.perf_counter() - started < seconds:
        with urllib.request.urlopen(request, timeout=120) as response:  # noqa: S310
            response.read()
        done += 1
    return done / (time.perf_counter() - started)


def analytics(sizes: Sizes, lines: list[str], machine: list[str]) -> None:
    lines += [
        "### GET /api/analytics/platform",
        "",
        f"In process (httpx over ASGI, no network), {sizes.analytics_calls} calls after 5 "
        "warm-up calls, as the seeded admin, on the HTTP seed and on the same seed with every "
        "kind of row doubled (same people, same year), calls to the two taken in turns. "
        "*Period*: 30 days ending mid-day, so whole days from the rollups and two part days "
        "from the rows. *Rate*: one client asking one request after another of a server "
        "process (Peerview's `serve`, the "
        "Express anchor's `server.js`) over the first seed.",
        "",
        "| database | requests | sessions | unfiltered p50 ms | p95 ms | period p50 ms "
        "| SQL per call |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for kind in ("sqlite", "postgresql"):
        targets, periods = [], []
        for name, plan in sizes.analytics:
            database = Database(kind, name)
            seeded_at = seed.ensure(database, plan)
            token = _admin_token(database)
            targets.append(_Target(database, token, {}, []))
            periods.append(_Target(database, token, _period(seeded_at), []))
        asyncio.run(_time_in_process(targets, sizes.analytics_calls))
        asyncio.run(_time_in_process(periods, sizes.analytics_calls))
        medians = []
        for (_, plan), target, period in zip(sizes.analytics, targets, periods, strict=True):
            p50, p95 = statistics.median(target.times), percentile(target.times, 95)
            period_p50 = statistics.median(period.times)
            medians.append(p50)
            sql = target.statements // sizes.analytics_calls
            lines.append(
                f"| {kind} | {plan.requests:,} | {plan.sessions:,} | {p50:.1f} | {p95:.1f} "
                f"| {period_p50:.1f} | {sql} |"
            )
            machine.append(f"ANALYTICS {kind} {plan.requests} {p50:.2f}")
            machine.append(f"ANALYTICS-PERIOD {kind} {plan.requests} {period_p50:.2f}")
            log(f"analytics {kind} {plan.requests}: p50 {p50:.1f} ms, period {period_p50:.1f} ms")
        growth = (medians[-1] / medians[0] - 1) * 100
        machine.append(f"ANALYTICS-GROWTH {kind} {growth:+.1f}%")
        lines.append(f"| {kind} | doubled | | {growth:+.1f} % | | | |")
    lines += [
        "",
        "| database | Peerview req/s | Express req/s | Peerview/Express |",
        "|---|---:|---:|---:|",
    ]
    for kind in ("sqlite", "postgresql"):
        database = Database(kind, sizes.analytics[0][0])
        token = _admin_token(database)
        rates = {}
        for label, starter, port, seconds, at_least in (
            ("peerview", start_peerview, ANALYTICS_PORTS[0], 5.0, 20),
            ("express", start_express, ANALYTICS_PORTS[1], 5.0, 3),
        ):
            server = starter(database, port, 1)
            try:
                rates[label] = _rate(server, token, seconds, at_least)
            finally:
                server.stop()
        ratio = rates["peerview"] / rates["express"]
        lines.append(f"| {kind} | {rates['peerview']:.1f} | {rates['express']:.2f} | {ratio:.1f} |")
        machine.append(
            f"ANALYTICS-RATE {kind} {rates['peerview']:.2f} {rates['express']:.3f} {ratio:.1f}"
        )
        log(f"analytics rate {kind}: {rates}")
    lines.append("")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument(
        "--only",
        choices=["sweeper", "realtime", "relay", "analytics", "codepad"],
        help="one part; `relay` is the realtime part without the idle memory comparison",
    )
    parser.add_argument(
        "--database-prefix",
        default="bench",
        help="name the benchmark databases (and SQLite files) from this prefix",
    )
    args = parser.parse_args(argv)
    sizes = named(QUICK if args.quick else FULL, args.database_prefix)
    lines = ["## Scale", ""]
    machine: list[str] = []
    if args.only in (None, "sweeper"):
        sweeper(sizes, lines, machine)
    if args.only in (None, "realtime", "relay"):
        realtime(sizes, lines, machine, with_idle_memory=args.only != "relay")
    if args.only in (None, "analytics"):
        analytics(sizes, lines, machine)
    if args.only in (None, "codepad"):
        # bench/codepad.py: edits a second, latency between participants, memory a document.
        codepad.codepad(sizes.http_name, sizes.http_plan, args.quick, lines, machine)
    print("\n".join([*lines, "```", *machine, "```", ""]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
