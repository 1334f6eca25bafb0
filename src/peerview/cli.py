"""`peerview serve|migrate|create-admin|seed-questions|import-questions|analytics rebuild`."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import importlib
import os
import signal
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from peerview.config import Settings, get_settings

if TYPE_CHECKING:
    from granian.server.common import AbstractServer

    from peerview.questions.schemas import QuestionImportItem


def _migrate(settings: Settings) -> None:
    from peerview.migrate import upgrade
    from peerview.setup.first_run import load_starter_bank

    print(f"Migrating {_safe_url(settings.database_url)} …", flush=True)
    upgrade(settings.database_url)
    print("Database is up to date.", flush=True)
    # Once per database, never again (docs/api.md §3.5): here, because this runs once per
    # deployment (`peerview migrate`, or `peerview serve` before its workers start).
    added = asyncio.run(load_starter_bank(settings))
    if added is not None:
        print(f"First run: the starter question bank loaded ({added} questions).", flush=True)


def _announce_setup(settings: Settings, host: str, port: int) -> None:
    """While no admin exists, a new one-time setup code, printed with the setup page's
    address (docs/api.md §3.5). Made here, before the workers start, so every worker (and
    every instance) knows it: only its hash is stored, in the database."""
    from peerview.setup import first_run

    try:
        code = asyncio.run(
            first_run.new_setup_code(settings, instance=first_run.instance_name(settings, port))
        )
    except Exception as exc:
        print(
            f"Could not check for an administrator ({type(exc).__name__}: {exc}); no setup "
            "code was made. Restart once the database is migrated and answers, or use "
            "`peerview create-admin`.",
            file=sys.stderr,
            flush=True,
        )
        return
    if code is not None:
        print(first_run.announcement(code, first_run.setup_url(host, port)), flush=True)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _exit_normally(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


# Idle connections are kept longer than clients and proxies keep theirs (60 s is the common
# default): a server that closes first races a client sending on the same connection, and a
# POST lost that way is not retried by the client. granian (hyper) closes a connection that
# has not sent a whole request head within this time, which bounds the idle wait between two
# requests as well as a slow client's head.
KEEP_ALIVE_SECONDS = 75
# On SIGTERM or SIGINT each worker stops accepting, lets the requests in flight finish and
# runs the lifespan shutdown (sweeper stopped, mailer stopped, database closed); a worker
# still busy after this many seconds is killed, so a stop never takes longer.
GRACEFUL_SHUTDOWN_SECONDS = 20
# The listen queue's length (uvicorn's, which served Peerview before). granian also lets each
# worker hold at most this many connections divided by the workers (its backpressure): idle
# keep-alive connections count, so the default of 1024 would be tight for a busy worker.
BACKLOG = 2048


def _load_in_worker(target: str, *, supervisor: int) -> Callable[..., Any]:
    """Make the application in a worker process, tied to the supervisor's life.

    A worker whose supervisor died (SIGKILL, the OOM killer) would otherwise go on serving
    with nobody to stop it, and hold the port beside the next `peerview serve` (granian binds
    with SO_REUSEPORT): the kernel kills the worker when its parent goes. SIGKILL, not a
    graceful SIGTERM: the kernel sends the signal again as each of the parent's threads ends.
    """
    if sys.platform == "linux":
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGKILL)
    if os.getppid() != supervisor:
        raise SystemExit("the supervisor is gone")
    module, _, name = target.partition(":")
    factory: Callable[[], Callable[..., Any]] = getattr(importlib.import_module(module), name)
    application = factory()
    _stop_once(application)
    return application


def _stop_once(application: object) -> None:
    """Give the worker's stop signals to granian once, and tell the application it is stopping.

    granian's worker sets its stop signal on each SIGTERM or SIGINT, and the third one hangs
    the worker for good (the signal's channel holds one message, the sender then blocks with
    the GIL held): a worker stopping already ignores more signals here. The worker sets its
    handlers (`granian._signals.set_loop_signals`, looked up as it starts serving) after it
    has loaded the application, which is when this runs.
    """
    from granian import _signals

    set_loop_signals: Callable[[asyncio.AbstractEventLoop], Any] = _signals.set_loop_signals
    stopping: Callable[[], None] | None = getattr(application, "stopping", None)

    def set_loop_signals_once(loop: asyncio.AbstractEventLoop) -> Any:
        stop_signal = set_loop_signals(loop)
        stopped = False

        def stop() -> None:
            nonlocal stopped
            if stopped:
                return
            stopped = True
            if stopping is not None:
                stopping()
            stop_signal.set()

        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)
        return stop_signal

    _signals.set_loop_signals = set_loop_signals_once


def granian_server(*, host: str, port: int, workers: int, log_level: str) -> AbstractServer[Any]:
    """granian serving `peerview.asgi:app`: HTTP/1.1, WebSocket, ASGI lifespan, JSON logs."""
    from granian import Granian
    from granian.constants import HTTPModes, Interfaces
    from granian.http import HTTP1Settings
    from granian.log import LogLevels

    from peerview.logging import logging_config

    return Granian(
        "peerview.asgi:app",
        factory=True,
        address=host,
        port=port,
        interface=Interfaces.ASGI,
        http=HTTPModes.http1,
        websockets=True,
        workers=workers,
        backlog=BACKLOG,
        http1_settings=HTTP1Settings(header_read_timeout=KEEP_ALIVE_SECONDS * 1000),
        # JSON lines; peerview.access is the access log (granian's would log query strings).
        log_level=LogLevels(log_level.lower()),
        log_dictconfig=logging_config(log_level),
        log_access=False,
        workers_kill_timeout=GRACEFUL_SHUTDOWN_SECONDS,
        # A worker that dies is replaced, as long as it is not dying again and again at start.
        respawn_failed_workers=True,
    )


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    if not args.no_migrate:
        _migrate(settings)
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    # A stop that lands before granian takes SIGTERM and SIGINT over is a normal exit too.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_normally)
    if workers > 1 and not settings.redis_url:
        print(
            f"Warning: {workers} workers without REDIS_URL: the API is served, but Socket.IO "
            "rooms, presence and events are not shared between the workers.",
            file=sys.stderr,
            flush=True,
        )
    server = granian_server(host=host, port=port, workers=workers, log_level=settings.log_level)
    print(f"Peerview listening on http://{host}:{port} (API docs at /docs)", flush=True)
    _announce_setup(settings, host, port)
    loader = partial(_load_in_worker, supervisor=os.getpid())
    with _worker_sockets(workers):
        server.serve(target_loader=loader)
    return 0


@contextlib.contextmanager
def _worker_sockets(workers: int) -> Iterator[None]:
    """With several workers, a private directory for their Unix sockets (realtime/routing.py),
    through which each passes on the Socket.IO requests that name another's session."""
    if workers == 1:
        yield
        return
    from peerview.realtime.routing import WORKER_SOCKETS_ENV

    with tempfile.TemporaryDirectory(prefix="peerview-workers-") as directory:
        os.environ[WORKER_SOCKETS_ENV] = directory
        try:
            yield
        finally:
            del os.environ[WORKER_SOCKETS_ENV]


def cmd_migrate(_: argparse.Namespace, settings: Settings) -> int:
    _migrate(settings)
    return 0


def cmd_create_admin(args: argparse.Namespace, settings: Settings) -> int:
    from peerview.admin import create_admin

    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password for the new admin: ")
            if getpass.getpass("Repeat it: ") != password:
                print("The passwords differ.", file=sys.stderr)
                return 2
    try:
        user_id = asyncio.run(
            create_admin(settings=settings, email=args.email, name=args.name, password=password)
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"Admin {args.email} created (id {user_id}).")
    return 0


def cmd_seed_questions(_: argparse.Namespace, settings: Settings) -> int:
    from peerview.questions.seed import seed_questions

    added, total = asyncio.run(seed_questions(settings=settings))
    print(f"Starter bank: {added} question(s) added, {total - added} already present.")
    return 0


# How each skipped item is explained, by the reason the import gives.
_SKIPPED_BECAUSE = {
    "exists": "already in the bank",
    "exists_deleted": "soft-deleted in the bank; restore it to bring it back",
}


def _import_line(item: QuestionImportItem, total: int, first_index: dict[str, int]) -> str:
    width = len(str(total - 1))
    because = (
        f"same as item {first_index[item.id]}"
        if item.reason == "repeated"
        else _SKIPPED_BECAUSE.get(item.reason or "", "")
    )
    line = (
        f"item {item.index:>{width}}: {item.outcome:<7}  {item.id}  [{item.category}] {item.title}"
    )
    return f"{line} ({because})" if because else line


def cmd_import_questions(args: argparse.Namespace, settings: Settings) -> int:
    from peerview.questions.import_file import ImportFileError, import_file, read_questions

    path = Path(args.file)
    try:
        items = read_questions(path)
    except ImportFileError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"Importing {len(items)} question(s) from {path} into {_safe_url(settings.database_url)} …",
        flush=True,
    )
    result = asyncio.run(import_file(settings=settings, items=items))
    first_index: dict[str, int] = {}
    for item in result.items:
        first_index.setdefault(item.id, item.index)
        print(_import_line(item, len(result.items), first_index))
    print(f"{result.created} created, {result.skipped} skipped.")
    return 0


def cmd_analytics_rebuild(_: argparse.Namespace, settings: Settings) -> int:
    from peerview.analytics.rebuild import rebuild_database

    print(f"Rebuilding the analytics rollups of {_safe_url(settings.database_url)} …", flush=True)
    asyncio.run(rebuild_database(settings, progress=lambda line: print(line, flush=True)))
    print("Analytics rollups rebuilt.", flush=True)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="peerview", description="Peerview server and tools.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="migrate the database, then serve the API")
    serve.add_argument("--host", help="listen address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, help="listen port (default: PORT or 5000)")
    serve.add_argument("--workers", type=int, help="server processes (default: WORKERS or 1)")
    serve.add_argument("--no-migrate", action="store_true", help="skip migrating first")
    serve.set_defaults(func=cmd_serve)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)

    admin = sub.add_parser("create-admin", help="create an administrator account")
    admin.add_argument("--email", required=True)
    admin.add_argument("--name", required=True)
    admin.add_argument("--password", help="the password (asked for when omitted)")
    admin.set_defaults(func=cmd_create_admin)

    seed = sub.add_parser("seed-questions", help="load the starter question bank (idempotent)")
    seed.set_defaults(func=cmd_seed_questions)

    importing = sub.add_parser(
        "import-questions",
        help="add the questions of a JSON or YAML file to the bank, all or none; "
        "those already there (same title and category) are skipped",
    )
    importing.add_argument(
        "file",
        help="a list of questions as for POST /api/questions/import; JSON or YAML by its "
        "extension (.json, .yaml, .yml), else by its content",
    )
    importing.set_defaults(func=cmd_import_questions)

    analytics = sub.add_parser("analytics", help="analytics maintenance")
    analytics_sub = analytics.add_subparsers(dest="analytics_command", required=True)
    analytics_sub.add_parser(
        "rebuild",
        help="recompute every analytics rollup from the requests, sessions and feedback "
        "(after rows were loaded or changed behind the application's back)",
    ).set_defaults(func=cmd_analytics_rebuild)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = get_settings()
    except ValueError as exc:
        print(f"Configuration error: {exc}", file=sys.stderr)
        return 2
    result: int = args.func(args, settings)
    return result


if __name__ == "__main__":
    sys.exit(main())
