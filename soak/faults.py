"""Infrastructure faults at length: PostgreSQL restarted again and again, Redis down for a while.

One `peerview serve` process on a private PostgreSQL cluster and a private `redis-server`
(tests/reliability/faults_support.py; the shared services are never touched), under a load of
concurrent clients, each reading and writing as one of the users:

1. PostgreSQL is stopped (`pg_ctl stop`, fast and immediate in turn) with requests held inside
   it, kept down, and started again, `--restarts` times. Per restart: the requests, the 503s,
   any other non-2xx (there must be none), hangs (no answer within 10 s; there must be none),
   the slowest answer, and the seconds from PostgreSQL being back to Peerview's first 2xx
   (at most 10).
2. Redis is stopped for `--redis-outage` seconds under the same load, while two sockets of a
   session relay signals: the REST answers and their slowest, the signals relayed, the 11th
   failed login of an account (429), then, once Redis is back, how soon another process's
   emit is heard again, presence back in Redis and login failures counted there.

    .venv/bin/python soak/faults.py                       # 5 restarts, 32 clients, 20 s outage
    .venv/bin/python soak/faults.py --restarts 2 --clients 8 --redis-outage 5

It exits 1 when a bound is broken. The quick version in `make test` is
tests/reliability/test_faults.py.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
import uuid
from collections import Counter
from pathlib import Path
from statistics import median
from typing import Any

# Run as a script from the checkout: the fault helpers live with the tests.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx
from redis.asyncio import Redis

from peerview.migrate import upgrade
from tests.realtime.support import Peer
from tests.reliability.faults_support import (
    ANSWER_BOUND,
    RECOVERY_BOUND,
    Load,
    PrivatePostgres,
    PrivateRedis,
    Restart,
    heard_from_another_process,
    is_problem_503,
    postgres_bindir,
    redis_server_binary,
    register,
    restart_under_load,
    schedule_session,
    server_env,
    timed,
    until_healthy,
)
from tests.support.servers import peerview_process

WRONG_PASSWORD = "wrong password!"  # noqa: S105 (a password meant to fail)
# Another process's emits must be heard again this soon after Redis is back.
RESUBSCRIBE_BOUND = 5.0


def restart_failures(restart: Restart) -> list[str]:
    problems = []
    if restart.hangs:
        problems.append(f"{len(restart.hangs)} hangs")
    if restart.other_errors:
        statuses = Counter(o.status for o in restart.other_errors)
        problems.append(f"non-2xx other than 503: {dict(statuses)}")
    if not all(is_problem_503(h, "DATABASE_UNAVAILABLE") for h in restart.health_while_down):
        problems.append("health was not 503 DATABASE_UNAVAILABLE while PostgreSQL was down")
    first = restart.first_2xx_after_back
    if first is None or first > RECOVERY_BOUND:
        problems.append(f"first 2xx {first} s after PostgreSQL was back")
    return problems


async def postgres_restarts(
    postgres: PrivatePostgres, url: str, users: list[dict[str, Any]], args: argparse.Namespace
) -> list[str]:
    failures: list[str] = []
    restarts: list[Restart] = []
    for n in range(args.restarts):
        mode = ("fast", "immediate")[n % 2]
        restart = await restart_under_load(
            postgres,
            url,
            users,
            clients=args.clients,
            mode=mode,
            down_for=args.down,
            in_flight=3,
            steady=2.0,
            after=2.0,
        )
        restarts.append(restart)
        print(f"  restart {n + 1}: {restart.summary()}", flush=True)
        failures += [f"restart {n + 1}: {p}" for p in restart_failures(restart)]
    outcomes = [o for r in restarts for o in r.outcomes]
    firsts = [r.first_2xx_after_back for r in restarts if r.first_2xx_after_back is not None]
    print(
        f"  total: {len(outcomes)} requests, "
        f"{sum(len(r.unavailable) for r in restarts)} x 503, "
        f"{sum(len(r.other_errors) for r in restarts)} other non-2xx, "
        f"{sum(len(r.hangs) for r in restarts)} hangs, "
        f"slowest answer {max(o.took for o in outcomes):.2f} s, "
        f"first 2xx after PostgreSQL was back: max {max(firsts, default=float('nan')):.2f} s, "
        f"mean {sum(firsts) / max(1, len(firsts)):.2f} s",
        flush=True,
    )
    return failures


async def relay_signals(
    sender: Peer, session_id: str, stop: asyncio.Event, acks: Counter[str]
) -> None:
    n = 0
    while not stop.is_set():
        n += 1
        data = {"session_id": session_id, "type": "ice-candidate", "data": {"n": n}}
        try:
            ack = await sender.call("signal", data)
            acks["ok" if ack == {"ok": True} else str(ack)] += 1
        except Exception as exc:
            acks[type(exc).__name__] += 1
        await asyncio.sleep(0.1)


async def redis_outage(
    redis: PrivateRedis,
    url: str,
    channel: str,
    interviewee: dict[str, Any],
    interviewer: dict[str, Any],
    args: argparse.Namespace,
) -> list[str]:
    failures: list[str] = []
    async with httpx.AsyncClient(base_url=url) as http:
        session, _ = await schedule_session(http, interviewee, interviewer, minutes_ahead=120)
    assert session is not None
    ee = await Peer(url, interviewee["token"]).connect()
    er = await Peer(url, interviewer["token"]).connect()
    store = Redis.from_url(redis.url)
    try:
        for peer in (ee, er):
            ack = await peer.join(session["id"])
            assert ack["ok"] is True, ack
        load = Load(url, [interviewee, interviewer], args.clients)
        acks: Counter[str] = Counter()
        stop_signals = asyncio.Event()
        async with load.running():
            relaying = asyncio.create_task(relay_signals(er, session["id"], stop_signals, acks))
            await asyncio.sleep(2)  # every client connected and warm
            started = time.monotonic()
            relayed_warm = len(ee.received["signal"])
            await asyncio.sleep(5)
            down_at = time.monotonic()
            relayed_up = len(ee.received["signal"]) - relayed_warm
            await asyncio.to_thread(redis.stop)
            relayed_before = len(ee.received["signal"])
            # The 11th failed login of one account while Redis is down.
            target = f"target-{uuid.uuid4().hex[:8]}@example.com"
            body = {"email": target, "password": WRONG_PASSWORD}
            async with httpx.AsyncClient(base_url=url) as http:
                logins = [
                    await timed(http, "POST", "/api/auth/login", json=body) for _ in range(11)
                ]
            await asyncio.sleep(max(0.0, args.redis_outage - (time.monotonic() - down_at)))
            relayed_during = len(ee.received["signal"]) - relayed_before
            during = [o for o in load.outcomes if o.sent >= down_at]
            await asyncio.to_thread(redis.start)
            back_at = time.monotonic()
            heard = await heard_from_another_process(redis.url, channel, ee, interviewee["id"], 15)
            await asyncio.sleep(1)
            stop_signals.set()
            await relaying
        statuses = Counter(o.status for o in during)
        slowest = max((o.took for o in during), default=0.0)
        before = [o for o in load.outcomes if started <= o.sent < down_at]
        up_for, down_for = down_at - started, back_at - down_at
        print(
            f"  REST with Redis up: {len(before) / up_for:.0f} requests/s, median "
            f"{median(o.took for o in before):.3f} s; down: {len(during) / down_for:.0f}"
            f" requests/s, median {median(o.took for o in during):.3f} s; signals relayed "
            f"{relayed_up / up_for:.1f}/s up, {relayed_during / down_for:.1f}/s down",
            flush=True,
        )
        print(
            f"  Redis down {back_at - down_at:.1f} s under {args.clients} clients: "
            f"{len(during)} REST requests {dict(statuses)}, slowest {slowest:.2f} s; "
            f"{relayed_during} signals relayed while down; signal acks {dict(acks)}",
            flush=True,
        )
        codes = [o.status for o in logins]
        print(f"  failed logins while down: {codes}", flush=True)
        print(f"  Redis back: another process's emit heard after {heard:.2f} s", flush=True)
        if set(statuses) != {200} or slowest > ANSWER_BOUND:
            failures.append(f"REST while Redis was down: {dict(statuses)}, slowest {slowest}")
        if relayed_during == 0 or set(acks) != {"ok"}:
            failures.append(f"signals while Redis was down: {relayed_during}, acks {dict(acks)}")
        if codes != [401] * 10 + [429]:
            failures.append(f"failed logins while Redis was down: {codes}")
        if heard > RESUBSCRIBE_BOUND:
            failures.append(f"another process heard again only after {heard:.2f} s")

        # Back to Redis: presence written back at the next change, failures counted there.
        await er.call("leave", {"session_id": session["id"]})
        await er.join(session["id"])
        shared = {v.decode() for v in await store.hvals(f"peerview:presence:{session['id']}")}
        other = f"other-{uuid.uuid4().hex[:8]}@example.com"
        async with httpx.AsyncClient(base_url=url) as http:
            await http.post("/api/auth/login", json={"email": other, "password": WRONG_PASSWORD})
        counted = await store.zcard(f"peerview:login-failures:account:{other}")
        print(f"  presence in Redis again: {len(shared)} users; login failure in Redis: {counted}")
        if shared != {interviewee["id"], interviewer["id"]} or counted != 1:
            failures.append("not back to Redis-backed presence and throttling")
    finally:
        await store.aclose()
        await ee.close()
        await er.close()
    return failures


async def main(args: argparse.Namespace) -> int:
    postgres = PrivatePostgres(postgres_bindir())
    redis = PrivateRedis(redis_server_binary())
    workdir = Path(tempfile.mkdtemp(prefix="peerview-soak-faults-"))
    log = workdir / "peerview.log"
    channel = f"peerview-soak-{uuid.uuid4().hex}"
    env = server_env(
        postgres.url, REDIS_URL=redis.url, SOCKETIO_CHANNEL=channel, REQUEST_EXPIRY_BUFFER_HOURS="0"
    )
    failures: list[str] = []
    try:
        postgres.init()
        postgres.start()
        redis.start()
        await asyncio.to_thread(upgrade, postgres.url)
        with peerview_process(env, log, migrate=False) as (url, process):
            await until_healthy(url, process, log)
            async with httpx.AsyncClient(base_url=url) as http:
                interviewee = await register(http, f"ee-{uuid.uuid4().hex[:8]}@example.com")
                interviewer = await register(
                    http, f"er-{uuid.uuid4().hex[:8]}@example.com", role="INTERVIEWER"
                )
                users = [interviewee, interviewer] + [
                    await register(http, f"load{n}-{uuid.uuid4().hex[:8]}@example.com")
                    for n in range(6)
                ]
            print(
                f"PostgreSQL restarted {args.restarts} times under {args.clients} clients, "
                f"down {args.down} s each:",
                flush=True,
            )
            failures += await postgres_restarts(postgres, url, users, args)
            print(f"Redis stopped for {args.redis_outage} s:", flush=True)
            failures += await redis_outage(redis, url, channel, interviewee, interviewer, args)
            if "unhandled error" in log.read_text(errors="replace"):
                failures.append(f"unhandled errors in the server's log ({log})")
    finally:
        redis.close()
        postgres.close()
    for failure in failures:
        print(f"FAIL {failure}", flush=True)
    print("faults soak:", "FAILED" if failures else "passed", flush=True)
    return 1 if failures else 0


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--restarts", type=int, default=5, help="PostgreSQL restarts")
    parser.add_argument("--clients", type=int, default=32, help="concurrent clients")
    parser.add_argument("--down", type=float, default=3.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--redis-outage", type=float, default=20.0, help="seconds Redis is down")
    return parser.parse_args(argv)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
