"""Peerview's own code under uvicorn and under granian: same data, same tokens, alternating.

For each database (SQLite, PostgreSQL) and process count (1, 2), each round starts every server
in turn over the same seeded database (its own `bench_server` one, seeded by bench/seed.py as
`make bench` seeds `bench`) and drives it with `wrk -t2 -c64 -d10s --latency` after a warm-up,
on the two read scenarios of bench/run.py; the next round starts them in the other order.

Each measurement prints two machine-readable lines on stdout,

    SERVER <server> <database> <processes> <scenario> <req/s> <p50 ms> <p99 ms>
    USAGE <server> <database> <processes> <scenario> <server CPU ms/request> <other load>

(the other load: cores that other work on the machine kept busy meanwhile; while that was
above --max-load a measurement is taken again after a pause, --retries times at most, and the
quietest kept) and at the end a table of the ranges over the rounds. The servers:

- `uvicorn`: uvicorn with the settings `peerview serve` gave it before granian (keep-alive
  75 s, graceful shutdown 20 s, worker health check 30 s, no access log).
- `granian`: granian as `peerview serve` configures it (`peerview.cli.granian_server`).
- `serve`: `peerview serve` itself, whatever server it runs.

    .venv/bin/python bench/servers.py                  # uvicorn and granian, 3 rounds
    .venv/bin/python bench/servers.py --servers uvicorn,granian,serve --rounds 2 \
        --database sqlite --processes 1

uvicorn is no dependency of Peerview's: `.venv/bin/pip install -r bench/requirements.txt`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import socket
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import seed
from common import (
    PYTHON,
    Database,
    Server,
    cpu_seconds,
    log,
    machine_ticks,
    peerview_env,
    ready,
)
from run import Result, World, call, cleanup, load_world, wait_idle, wrk

SCENARIOS = ("open", "session")
DATABASES = {
    "sqlite": Database("sqlite", "bench_server"),
    "postgresql": Database("postgresql", "bench_server"),
}
WARMUP_SECONDS = 3
DURATION_SECONDS = 10


def _uvicorn(port: int, workers: int) -> list[str]:
    """uvicorn with the settings `peerview serve` gave it (peerview/cli.py before granian)."""
    return [
        *("-m", "uvicorn", "peerview.asgi:app", "--factory"),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--log-level", "warning", "--no-access-log", "--no-proxy-headers"),
        *("--timeout-keep-alive", "75", "--timeout-graceful-shutdown", "20"),
        *("--timeout-worker-healthcheck", "30"),
    ]


def _granian(port: int, workers: int) -> list[str]:
    """granian as `peerview serve` configures it (peerview.cli.granian_server)."""
    code = (
        "import sys; from peerview.cli import granian_server; granian_server(host='127.0.0.1', "
        "port=int(sys.argv[1]), workers=int(sys.argv[2]), log_level='WARNING').serve()"
    )
    return ["-c", code, str(port), str(workers)]


def _serve(port: int, workers: int) -> list[str]:
    return [
        *("-m", "peerview.cli", "serve", "--no-migrate"),
        *("--port", str(port), "--workers", str(workers)),
    ]


SERVERS: dict[str, tuple[str | None, Callable[[int, int], list[str]]]] = {
    "uvicorn": ("uvicorn", _uvicorn),
    "granian": ("granian", _granian),
    "serve": (None, _serve),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start(name: str, database: Database, workers: int) -> Server:
    port = free_port()
    argv = [str(PYTHON), *SERVERS[name][1](port, workers)]
    return ready(Server(f"servers-{name}", argv, peerview_env(database), port))


def check(server: Server, world: World) -> None:
    """One request of each scenario answers 200, or the figures would measure errors."""
    sid, interviewer, _ = world.sessions[0]
    for path, token in (
        ("/api/interview-requests/open", world.tokens[world.interviewers[0]]),
        (f"/api/interview-sessions/{sid}", world.tokens[interviewer]),
    ):
        status, body = call(server.base, "GET", path, token)
        if status != 200:
            raise RuntimeError(f"{server.name}: GET {path} answered {status}: {body}")


Key = tuple[str, str, int, str]  # (server, database, processes, scenario)


def _machine_busy_seconds() -> float:
    """CPU seconds every core of this machine has spent busy since boot."""
    return machine_ticks()[0] / os.sysconf("SC_CLK_TCK")


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _backends(database: Database) -> list[int]:
    """The PostgreSQL backends serving the benchmark's database (the server's pool)."""
    if database.kind != "postgresql":
        return []
    sql = "SELECT pid FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
    try:
        rows = seed.execute(database, [(sql, {"name": database.name})])[0]
    except Exception as exc:  # a shared server may refuse one more connection
        log(f"PostgreSQL backends unknown ({exc.__class__.__name__}): counted as other load")
        return []
    return [int(row[0]) for row in rows]


@dataclass
class Usage:
    """CPU used while a measurement ran: by the server, by its database backends, by others."""

    server_seconds: float = 0.0
    backend_seconds: float = 0.0
    other_cores: float = 0.0


@contextmanager
def usage_during(server: Server, database: Database) -> Iterator[Usage]:
    """What the machine's cores did while the body ran.

    Other work is the machine's busy time less the server's processes, wrk (a reaped child)
    and, on PostgreSQL, the backends of the benchmark's database: on a shared machine a
    figure taken while other work kept a core busy is not comparable with a quiet one.
    """
    backends = _backends(database)
    server_pids = server.pids()
    server_0, backends_0 = cpu_seconds(server_pids), cpu_seconds(backends)
    machine_0, children_0 = _machine_busy_seconds(), _children_seconds()
    started = time.monotonic()
    usage = Usage()
    yield usage
    elapsed = time.monotonic() - started
    usage.server_seconds = cpu_seconds(server_pids) - server_0
    usage.backend_seconds = cpu_seconds(backends) - backends_0
    ours = usage.server_seconds + usage.backend_seconds + _children_seconds() - children_0
    usage.other_cores = max(0.0, (_machine_busy_seconds() - machine_0 - ours) / elapsed)


@dataclass(frozen=True)
class Measured:
    result: Result
    usage: Usage

    @property
    def load(self) -> float:
        return self.usage.other_cores

    @property
    def cpu_ms(self) -> float:
        """The server's CPU milliseconds per request (its database backends' not counted)."""
        return 1000 * self.usage.server_seconds / max(1, self.result.requests)


def measure_once(server: Server, world: World, scenario: str, duration: int) -> Measured:
    with usage_during(server, world.database) as usage:
        result = wrk(server.base, scenario, world, duration)
    wait_idle(server, world.database)
    return Measured(result, usage)


def measure(
    results: dict[Key, list[Measured]],
    name: str,
    world: World,
    processes: int,
    options: argparse.Namespace,
) -> None:
    database = world.database
    server = start(name, database, processes)
    try:
        check(server, world)
        for scenario in SCENARIOS:
            if options.warmup:
                wrk(server.base, scenario, world, options.warmup)
                wait_idle(server, database)
            measured = measure_once(server, world, scenario, options.duration)
            # Other work on a shared machine takes cores from the server: measure again,
            # later, while it kept more than --max-load cores busy (keeping the quietest).
            for _ in range(options.retries):
                if measured.load <= options.max_load:
                    break
                log(f"{name} {scenario}: {measured.load:.2f} cores busy elsewhere, again soon")
                time.sleep(options.retry_pause)
                again = measure_once(server, world, scenario, options.duration)
                measured = min(measured, again, key=lambda m: m.load)
            results[(name, database.kind, processes, scenario)].append(measured)
            result = measured.result
            print(
                f"SERVER {name} {database.kind} {processes} {scenario} {result.rps:.1f} "
                f"{result.p50_ms:.2f} {result.p99_ms:.2f}",
                flush=True,
            )
            print(
                f"USAGE {name} {database.kind} {processes} {scenario} {measured.cpu_ms:.3f} "
                f"{measured.load:.2f}",
                flush=True,
            )
            if result.errors:
                log(f"{name} {database.kind} {processes}p {scenario}: {result.errors} errors")
    finally:
        server.stop()


def _range(values: list[float], fmt: str) -> str:
    low, high = fmt.format(min(values)), fmt.format(max(values))
    return low if low == high else f"{low}-{high}"


def render(results: dict[Key, list[Measured]]) -> str:
    lines = [
        "| server | database | processes | scenario | req/s | p50 ms | p99 ms | errors "
        "| server CPU ms/req | other load (cores) | rounds |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for (name, kind, processes, scenario), runs in sorted(
        results.items(), key=lambda item: (item[0][1], item[0][2], item[0][3], item[0][0])
    ):
        lines.append(
            f"| {name} | {kind} | {processes} | {scenario} "
            f"| {_range([m.result.rps for m in runs], '{:,.0f}')} "
            f"| {_range([m.result.p50_ms for m in runs], '{:.1f}')} "
            f"| {_range([m.result.p99_ms for m in runs], '{:.1f}')} "
            f"| {sum(m.result.errors for m in runs)} "
            f"| {_range([m.cpu_ms for m in runs], '{:.2f}')} "
            f"| {_range([m.load for m in runs], '{:.2f}')} | {len(runs)} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", default="uvicorn,granian", help="comma-separated")
    parser.add_argument("--database", choices=sorted(DATABASES), action="append")
    parser.add_argument("--processes", type=int, choices=[1, 2], action="append")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=DURATION_SECONDS)
    parser.add_argument("--warmup", type=int, default=WARMUP_SECONDS)
    parser.add_argument(
        "--max-load",
        type=float,
        default=0.3,
        help="measure again while other work kept more cores than this busy",
    )
    parser.add_argument("--retries", type=int, default=1, help="at most this many times")
    parser.add_argument("--retry-pause", type=float, default=10, help="seconds before each")
    args = parser.parse_args(argv)
    names = [n for n in args.servers.split(",") if n]
    for name in names:
        if name not in SERVERS:
            parser.error(f"unknown server {name!r}: choose from {', '.join(SERVERS)}")
        module = SERVERS[name][0]
        if module is not None and importlib.util.find_spec(module) is None:
            parser.error(f"{module} is not installed: pip install -r bench/requirements.txt")
    databases = [DATABASES[d] for d in (args.database or ["sqlite", "postgresql"])]
    process_counts = args.processes or [1, 2]

    results: dict[Key, list[Measured]] = defaultdict(list)
    worlds = {}
    for database in databases:
        seed.ensure(database, seed.HTTP_FULL)
        cleanup(database)
        worlds[database.kind] = load_world(database)
    for round_ in range(args.rounds):
        for database in databases:
            for processes in process_counts:
                # Who goes first alternates from round to round and from block to block.
                order = names if (round_ + processes) % 2 == 0 else names[::-1]
                for name in order:
                    log(f"round {round_ + 1}: {name} on {database.kind}, {processes} process(es)")
                    measure(results, name, worlds[database.kind], processes, args)
    print()
    print(
        f"wrk -t2 -c64 -d{args.duration}s --latency after a {args.warmup} s warm-up; "
        f"{args.rounds} round(s); ranges are min-max over the rounds."
    )
    print()
    print(render(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
