"""`peerview serve|migrate|create-admin|seed-questions|analytics rebuild`."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from peerview.config import Settings, get_settings


def _migrate(settings: Settings) -> None:
    from peerview.migrate import upgrade

    print(f"Migrating {_safe_url(settings.database_url)} …", flush=True)
    upgrade(settings.database_url)
    print("Database is up to date.", flush=True)


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _exit_normally(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from peerview.logging import logging_config

    if not args.no_migrate:
        _migrate(settings)
    host = args.host or settings.host
    port = args.port or settings.port
    workers = args.workers or settings.workers
    print(f"Peerview listening on http://{host}:{port} (API docs at /docs)", flush=True)
    # Uvicorn re-raises the SIGTERM/SIGINT it stopped for once it has drained the requests
    # in flight and run the shutdown; with the default handlers that would end the process
    # as killed by a signal. A stop that went as planned is a normal exit.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_normally)
    uvicorn.run(
        "peerview.asgi:app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=settings.log_level.lower(),
        # JSON lines; peerview.access replaces uvicorn's access log (which logs query strings).
        log_config=logging_config(settings.log_level),
        access_log=False,
        # On SIGTERM: stop accepting, let in-flight requests finish for up to this many
        # seconds, then run the lifespan shutdown (sweeper stopped, database disposed).
        timeout_graceful_shutdown=20,
        # Keep idle connections longer than clients and proxies keep theirs (60 s is the
        # common default): a server that closes first races a client sending on the same
        # connection, and a POST lost that way is not retried by the client.
        timeout_keep_alive=75,
        # The supervisor kills a worker that does not answer its ping within this many
        # seconds and starts another. A spawned worker answers only once its interpreter
        # has started and imported uvicorn: on a busy host that can take longer than
        # uvicorn's default of 5 s, and every replacement was killed in turn.
        timeout_worker_healthcheck=30,
        proxy_headers=False,
    )
    return 0


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
