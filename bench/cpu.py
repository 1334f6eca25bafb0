"""CPU time per request of Peerview's application, in process, over a seeded database.

wrk's requests per second depend on what else the machine is doing; the CPU time the
application spends on one request hardly does. This drives the ASGI application directly
(no sockets, no uvicorn) with the requests of the read scenarios and prints, per scenario,
the median and the minimum over batches of CPU milliseconds per request. Run it against two
checkouts to see what a change is worth:

    .venv/bin/python bench/cpu.py                   # the seeded quick SQLite database
    PYTHONPATH=/path/to/other/checkout/src .venv/bin/python bench/cpu.py

The database is the one `bench/run.py --quick --database sqlite` seeds (`bench/.work/`).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from typing import Any

import seed
from common import JWT_SECRET, Database, log, token_for

BATCHES = 10


def scope_for(path: str, token: str) -> dict[str, Any]:
    route, _, query = path.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "headers": [(b"host", b"localhost"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("localhost", 80),
        "root_path": "",
        "state": {},
    }


async def call(app: Any, scope: dict[str, Any]) -> int:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status: int = sent[0]["status"]
    return status


async def measure(app: Any, name: str, scope: dict[str, Any], requests: int) -> None:
    statuses = {await call(app, scope) for _ in range(50)}  # warm-up, and a sanity check
    if statuses != {200}:
        sys.exit(f"{name}: answered {sorted(statuses)}, not 200")
    per_batch = max(requests // BATCHES, 1)
    costs = []
    for _ in range(BATCHES):
        started = time.process_time()
        for _ in range(per_batch):
            await call(app, scope)
        costs.append(1000 * (time.process_time() - started) / per_batch)
    print(
        f"{name:10} CPU ms/request: median {statistics.median(costs):.3f}, "
        f"min {min(costs):.3f} ({per_batch * BATCHES} requests)",
        flush=True,
    )


async def main_async(database: Database, requests: int) -> None:
    users, sessions = seed.execute(
        database,
        [
            "SELECT id FROM users WHERE role = 'INTERVIEWER' ORDER BY email LIMIT 1",
            "SELECT id, interviewer_id FROM interview_sessions ORDER BY id LIMIT 1",
        ],
    )
    interviewer = users[0][0]
    os.environ.update(
        DATABASE_URL=database.url,
        JWT_SECRET=JWT_SECRET,
        SWEEPER_ENABLED="false",
        LOG_LEVEL="warning",
        PEERVIEW_ENV="production",
    )
    from peerview.config import Settings
    from peerview.main import create_app

    app = create_app(Settings())
    token = token_for(interviewer)
    session_id, participant = sessions[0]
    scenarios = {
        "health": scope_for("/api/health", token),
        "open": scope_for("/api/interview-requests/open", token),
        "session": scope_for(f"/api/interview-sessions/{session_id}", token_for(participant)),
        "me": scope_for("/api/auth/me", token),
    }
    async with app.router.lifespan_context(app):
        for name, scope in scenarios.items():
            await measure(app, name, scope, requests)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="per scenario")
    parser.add_argument(
        "--database", default="bench_quick", help="name of a seeded SQLite database"
    )
    args = parser.parse_args(argv)
    database = Database("sqlite", args.database)
    if not database.sqlite_path.exists():
        sys.exit(f"{database.sqlite_path} is missing: run bench/run.py --quick --database sqlite")
    import peerview

    log(f"application from {os.path.dirname(peerview.__file__)}")
    asyncio.run(main_async(database, args.requests))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
