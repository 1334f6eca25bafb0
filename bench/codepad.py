"""The code pad at scale (issue 14): edits a second one process relays and stores, the latency
of an edit from one participant to the other, and the memory of an open document.

Run through `bench/scale.py --only codepad` (`--quick` for a smoke run; `--database-prefix` for
databases of one's own); `make bench` runs it with the other scale parts. One `peerview serve`
process (granian, one worker) on SQLite, then on PostgreSQL when it answers, over the HTTP seed;
the sessions it uses are LIVE ones added for the run (marked, removed afterwards).

The clients are `bench/lean_socket.py` (Socket.IO in raw websocket frames, as the relay
benchmark's: python-socketio's own client spends more on a message than the server does), one
per participant, each with its own Yjs document in `pycrdt`: it joins, `code_sync`s, and makes
its edits as a person typing does, a few characters inserted at its cursor (now and then one
deleted), sending each edit's Yjs update as `code_update`.

- *Throughput*: every participant of `writers` sessions edits as fast as its acknowledgements
  come back (one edit in flight per socket, both participants of a document at once); after a
  second's warm-up, acknowledged updates (each one stored and committed) a second for
  `seconds`. The per-socket limits (CODE_UPDATES_PER_SECOND, SOCKET_RATE_PER_SECOND) are raised
  for this server, as `bench/run.py` raises the write limit: a person types far below them.
- *Latency*: `latency_sessions` sessions, each edited `rate` times a second (its two
  participants in turn, at fixed times, the sessions' phases spread); the time from just
  before an edit is sent to the arrival of its `code_update` push at the other participant,
  who applies it to its document.
- *Memory*: a fresh server; `documents` sessions whose documents are stored already (a snapshot
  of a file typed by two people in small edits); both participants of each connect and join,
  the server's resident memory is read, then both `code_sync`, and it is read again: the
  difference over `documents`.

Prints a markdown section and `CODEPAD` lines; asserts nothing.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import os
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import lean_socket
import seed
from common import (
    PG_ADMIN_URL,
    Database,
    Server,
    cpu_seconds,
    log,
    rss_kib,
    start_peerview,
    token_for,
)
from pycrdt import Doc, Text

NOTE = "bench:codepad"
PORTS = range(18141, 18161)
# A person types far below these; the throughput figure is the server's, not the limits'.
UNLIMITED = {
    "CODE_UPDATES_PER_SECOND": "1000000",
    "SOCKET_RATE_PER_SECOND": "1000000",
    "SOCKET_BURST": "1000000",
}
# What the participants type, in turn: a short Python file.
SOURCE = '''def two_sum(nums: list[int], target: int) -> tuple[int, int] | None:
    """Indices of the two numbers that add up to target."""
    seen: dict[int, int] = {}
    for i, n in enumerate(nums):
        if target - n in seen:
            return seen[target - n], i
        seen[n] = i
    return None


def test_two_sum() -> None:
    assert two_sum([2, 7, 11, 15], 9) == (0, 1)
    assert two_sum([3, 3], 6) == (0, 1)
    assert two_sum([1], 1) is None

'''


@dataclass(frozen=True)
class Sizes:
    writers: int  # sessions whose participants edit as fast as acknowledgements come back
    seconds: float
    latency_sessions: int
    rate: float  # edits a second per session
    latency_seconds: float
    documents: int  # opened for the memory figure (the process keeps at most 1,000)


FULL = Sizes(writers=50, seconds=10, latency_sessions=20, rate=5, latency_seconds=10, documents=500)
QUICK = Sizes(writers=10, seconds=3, latency_sessions=5, rate=5, latency_seconds=3, documents=50)


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


# --------------------------------------------------------------------------- sessions


@dataclass(frozen=True)
class Pad:
    session_id: str
    interviewer: str
    interviewee: str


def _at(database: Database, value: datetime) -> Any:
    return seed.sqlite_time(value) if database.kind == "sqlite" else value


def make_live(database: Database, count: int, offset: int = 0) -> list[Pad]:
    """`count` sessions LIVE now (started a minute ago, an hour ahead), marked for removal."""
    users = seed.execute(database, ["SELECT id, role FROM users ORDER BY email"])[0]
    interviewers = [u[0] for u in users if u[1] == "INTERVIEWER"]
    interviewees = [u[0] for u in users if u[1] == "INTERVIEWEE"]
    now = datetime.now(UTC).replace(microsecond=0)
    scheduled, started = now - timedelta(minutes=2), now - timedelta(minutes=1)
    planned = started + timedelta(minutes=60)
    requests, sessions, pads = [], [], []
    for n in range(offset, offset + count):
        rid, sid = str(uuid.uuid4()), str(uuid.uuid4())
        interviewer = interviewers[n % len(interviewers)]
        interviewee = interviewees[n % len(interviewees)]
        requests.append(
            {
                "id": rid,
                "ie": interviewee,
                "scheduled": _at(database, scheduled),
                "expires": _at(database, scheduled - timedelta(hours=5)),
                "accepted": _at(database, now - timedelta(days=1)),
                "note": NOTE,
            }
        )
        sessions.append(
            {
                "id": sid,
                "rid": rid,
                "iv": interviewer,
                "ie": interviewee,
                "scheduled": _at(database, scheduled),
                "slot_end": _at(database, scheduled + timedelta(minutes=60)),
                "started": _at(database, started),
                "planned": _at(database, planned),
                "hard": _at(database, planned + seed.HARD_BUFFER),
                "created": _at(database, now - timedelta(days=1)),
                "now": _at(database, now),
            }
        )
        pads.append(Pad(sid, interviewer, interviewee))
    seed.execute(
        database,
        [
            (
                "INSERT INTO interview_requests (id, interviewee_id, category, difficulty, type, "
                "scheduled_at, duration_minutes, note, status, expires_at, accepted_at, "
                "created_at, updated_at) VALUES (:id, :ie, 'arrays', 'MEDIUM', 'CODING', "
                ":scheduled, 60, :note, 'ACCEPTED', :expires, :accepted, :accepted, :accepted)",
                requests,
            ),
            (
                "INSERT INTO interview_sessions (id, request_id, interviewer_id, interviewee_id, "
                "category, difficulty, type, status, scheduled_at, duration_minutes, "
                "scheduled_end_at, started_at, planned_end_at, hard_end_at, extended_minutes, "
                "interviewee_joined_at, version, created_at, updated_at) VALUES "
                "(:id, :rid, :iv, :ie, 'arrays', 'MEDIUM', 'CODING', 'LIVE', :scheduled, 60, "
                ":slot_end, :started, :planned, :hard, 0, :started, 1, :created, :now)",
                sessions,
            ),
        ],
    )
    return pads


def drop_pads(database: Database) -> None:
    """The run's requests, and with them (cascading) its sessions and their documents."""
    seed.execute(database, [("DELETE FROM interview_requests WHERE note = :n", {"n": NOTE})])


def typed_document(edits: int = 1500, seed_value: int = 14) -> tuple[bytes, str]:
    """A document as two people leave it: the file typed in small edits by one, with the
    other's small edits here and there (each a struct of its own); (update, text)."""
    rng = random.Random(seed_value)
    docs = [Doc(), Doc()]
    texts = [d.get("code", type=Text) for d in docs]
    typist = Typist(rng)
    for k in range(edits):
        who = 0 if k % 5 else 1
        before = docs[who].get_state()
        typist.edit(texts[who])
        docs[1 - who].apply_update(docs[who].get_update(before))
    return docs[0].get_update(), str(texts[0])


def store_documents(database: Database, pads: list[Pad], snapshot: bytes, text: str) -> None:
    """Each pad's document as stored after a compaction: a snapshot and no update after it."""
    now = _at(database, datetime.now(UTC))
    seed.execute(
        database,
        [
            (
                "INSERT INTO code_documents (session_id, language, snapshot, text, version, "
                "updated_at) VALUES (:s, 'python', :snap, :text, 1400, :now)",
                [{"s": p.session_id, "snap": snapshot, "text": text, "now": now} for p in pads],
            )
        ],
    )


# --------------------------------------------------------------------------- participants


class Typist:
    """Edits as a person types: 1 to 4 characters of SOURCE at the cursor; one edit in ten a
    backspace."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.cursor = 0
        self.next = rng.randrange(len(SOURCE))

    def edit(self, text: Text) -> None:
        size = len(text)
        self.cursor = min(self.cursor, size)
        if self.cursor > 0 and self.rng.random() < 0.1:
            del text[self.cursor - 1 : self.cursor]
            self.cursor -= 1
            return
        count = self.rng.randint(1, 4)
        chunk = (SOURCE * 2)[self.next : self.next + count]
        self.next = (self.next + count) % len(SOURCE)
        text.insert(self.cursor, chunk)
        self.cursor += len(chunk)


@dataclass
class Participant:
    socket: Any
    session_id: str
    rng: random.Random
    doc: Doc[Text] = field(default_factory=Doc)

    def __post_init__(self) -> None:
        self.text = self.doc.get("code", type=Text)
        self.typist = Typist(self.rng)

    def edit(self) -> str:
        """One edit made on this participant's document: its Yjs update, in base64."""
        before = self.doc.get_state()
        self.typist.edit(self.text)
        return _b64(self.doc.get_update(before))

    def apply(self, update: str) -> None:
        self.doc.apply_update(base64.b64decode(update))

    async def sync(self) -> dict[str, Any]:
        state = self.doc.get_state()
        ack = await self.socket.call(
            "code_sync", {"session_id": self.session_id, "state_vector": _b64(state)}
        )
        if not isinstance(ack, dict) or not ack.get("ok"):
            raise RuntimeError(f"code_sync refused: {ack}")
        self.apply(ack["update"])
        return ack


async def connect_pads(base: str, pads: list[Pad]) -> list[tuple[Participant, Participant]]:
    """Both participants of every pad connected and joined, 25 pads at a time."""

    async def one(user_id: str, pad: Pad, k: int) -> Participant:
        client = await lean_socket.connect(base, {"token": token_for(user_id)})
        ack = await client.call("join", {"session_id": pad.session_id})
        if not isinstance(ack, dict) or not ack.get("ok"):
            raise RuntimeError(f"join refused: {ack}")
        return Participant(client, pad.session_id, random.Random(k))

    pairs: list[tuple[Participant, Participant]] = []
    for i in range(0, len(pads), 25):
        chunk = pads[i : i + 25]
        found = await asyncio.gather(
            *(
                one(user, pad, 2 * (i + j) + side)
                for j, pad in enumerate(chunk)
                for side, user in enumerate((pad.interviewer, pad.interviewee))
            )
        )
        pairs += [(found[2 * j], found[2 * j + 1]) for j in range(len(chunk))]
    return pairs


async def close(pairs: list[tuple[Participant, Participant]]) -> None:
    await asyncio.gather(
        *(p.socket.disconnect() for pair in pairs for p in pair), return_exceptions=True
    )


# --------------------------------------------------------------------------- the three figures


@dataclass
class Throughput:
    per_second: float
    acked: int  # in the measured window
    acked_all: int  # warm-up included
    refused: Counter[str]
    ack_ms: list[float]
    pushes: int
    server_cpu_ms: float  # the server's CPU time an acknowledged update, in the window
    client_cpu_ms: float  # this client's, the same way


async def throughput(server: Server, pairs: list[tuple[Participant, Participant]], sizes: Sizes):
    acked = 0
    refused: Counter[str] = Counter()
    ack_ms: list[float] = []
    pushes = 0
    measuring = False

    def pushed(_: Any) -> None:
        nonlocal pushes
        pushes += 1

    for pair in pairs:
        for p in pair:
            p.socket.on("code_update", pushed)

    async def writer(p: Participant, stop: float) -> None:
        nonlocal acked
        while time.perf_counter() < stop:
            update = p.edit()
            started = time.perf_counter()
            ack = await p.socket.call("code_update", {"session_id": p.session_id, "update": update})
            if isinstance(ack, dict) and ack.get("ok"):
                acked += 1
                if measuring:
                    ack_ms.append((time.perf_counter() - started) * 1000)
            else:
                refused[str(ack.get("code") if isinstance(ack, dict) else ack)] += 1

    stop = time.perf_counter() + 1 + sizes.seconds
    tasks = [asyncio.create_task(writer(p, stop)) for pair in pairs for p in pair]
    await asyncio.sleep(1)  # warm-up
    measuring = True
    first, cpu0, mine0 = acked, cpu_seconds(server.pids()), time.process_time()
    window = time.perf_counter()
    await asyncio.sleep(sizes.seconds)
    last, cpu1, mine1 = acked, cpu_seconds(server.pids()), time.process_time()
    window = time.perf_counter() - window
    measuring = False
    await asyncio.gather(*tasks)
    await asyncio.sleep(0.5)  # the last pushes
    done = max(last - first, 1)
    return Throughput(
        per_second=(last - first) / window,
        acked=last - first,
        acked_all=acked,
        refused=refused,
        ack_ms=ack_ms,
        pushes=pushes,
        server_cpu_ms=(cpu1 - cpu0) * 1000 / done,
        client_cpu_ms=(mine1 - mine0) * 1000 / done,
    )


@dataclass
class Latency:
    push_ms: list[float]
    ack_ms: list[float]
    sent: int
    received: int
    refused: int


async def latency(pairs: list[tuple[Participant, Participant]], sizes: Sizes) -> Latency:
    sent_at: dict[str, float] = {}
    push_ms: list[float] = []
    ack_ms: list[float] = []
    refused = 0

    def receiver(p: Participant) -> Callable[[Any], None]:
        def received(data: Any) -> None:
            now = time.perf_counter()
            update = data.get("update") if isinstance(data, dict) else None
            started = sent_at.pop(update, None) if isinstance(update, str) else None
            if started is not None:
                push_ms.append((now - started) * 1000)
            if isinstance(update, str):
                p.apply(update)

        return received

    for pair in pairs:
        for p in pair:
            p.socket.on("code_update", receiver(p))

    interval = 1 / sizes.rate
    edits = int(sizes.latency_seconds * sizes.rate)
    origin = time.perf_counter() + 0.2

    async def session(k: int, pair: tuple[Participant, Participant]) -> None:
        nonlocal refused
        phase = origin + interval * k / len(pairs)
        for n in range(edits):
            await asyncio.sleep(max(0.0, phase + n * interval - time.perf_counter()))
            p = pair[n % 2]
            update = p.edit()
            started = time.perf_counter()
            sent_at[update] = started

            def acked(*args: Any, started: float = started) -> None:
                nonlocal refused
                if args and isinstance(args[0], dict) and args[0].get("ok"):
                    ack_ms.append((time.perf_counter() - started) * 1000)
                else:
                    refused += 1

            p.socket.write(
                p.socket.event_frame(
                    "code_update", {"session_id": p.session_id, "update": update}, acked
                )
            )

    await asyncio.gather(*(session(k, pair) for k, pair in enumerate(pairs)))
    await asyncio.sleep(1)  # the last pushes
    sent = edits * len(pairs)
    return Latency(push_ms, ack_ms, sent, len(push_ms), refused)


async def opened_memory(
    server: Server, pairs: list[tuple[Participant, Participant]], snapshot: bytes
) -> tuple[int, int, int, float]:
    """KiB of the server's process tree with every pair connected and joined; then once the
    server has loaded every document (both participants sync holding it already: the diff is
    empty, no large message); then once both have synced from nothing (the whole document
    sent to each socket, as to a browser that opens the pad); and the seconds those took."""
    await asyncio.sleep(1)
    before = tree_rss_kib(server)
    for pair in pairs:
        for p in pair:
            p.doc.apply_update(snapshot)
    for i in range(0, len(pairs), 25):
        await asyncio.gather(*(p.sync() for pair in pairs[i : i + 25] for p in pair))
    await asyncio.sleep(1)
    loaded = tree_rss_kib(server)
    started = time.perf_counter()
    for pair in pairs:
        for p in pair:
            p.doc = Doc()
            p.text = p.doc.get("code", type=Text)
    for i in range(0, len(pairs), 25):
        await asyncio.gather(*(p.sync() for pair in pairs[i : i + 25] for p in pair))
    took = time.perf_counter() - started
    await asyncio.sleep(1)
    return before, loaded, tree_rss_kib(server), took


def tree_rss_kib(server: Server) -> int:
    return sum(rss_kib(pid) for pid in server.pids())


# --------------------------------------------------------------------------- running it


def postgres_answers() -> bool:
    async def probe() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL, timeout=3)
        await conn.close()

    try:
        asyncio.run(probe())
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    return True


def free_port() -> int:
    for port in PORTS:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS.start}-{PORTS.stop - 1}")


@dataclass
class Figures:
    kind: str
    throughput: Throughput
    latency: Latency
    stored: int  # the versions the writers' documents reached: updates stored
    documents: int
    text_bytes: int
    rss_before: int
    rss_after: int
    sync_seconds: float
    load: float
    rss_loaded: int  # after the server loaded the documents, before any was sent in full

    @property
    def per_document_kib(self) -> float:
        return (self.rss_after - self.rss_before) / self.documents

    @property
    def loaded_kib(self) -> float:
        return (self.rss_loaded - self.rss_before) / self.documents


def run_database(database: Database, plan: seed.Plan, sizes: Sizes) -> Figures:
    seed.ensure(database, plan)
    drop_pads(database)
    snapshot, text = typed_document()
    try:
        writers = make_live(database, sizes.writers)
        timed = make_live(database, sizes.latency_sessions, offset=sizes.writers)
        opened = make_live(database, sizes.documents, offset=sizes.writers + sizes.latency_sessions)
        store_documents(database, opened, snapshot, text)

        server = start_peerview(database, free_port(), 1, **UNLIMITED)
        try:

            async def edits() -> tuple[Throughput, Latency]:
                pairs = await connect_pads(server.base, writers)
                try:
                    for pair in pairs:
                        for p in pair:
                            await p.sync()
                    gc.collect()
                    gc.freeze()
                    rate = await throughput(server, pairs, sizes)
                finally:
                    await close(pairs)
                pairs = await connect_pads(server.base, timed)
                try:
                    for pair in pairs:
                        for p in pair:
                            await p.sync()
                    delay = await latency(pairs, sizes)
                finally:
                    await close(pairs)
                    gc.unfreeze()
                return rate, delay

            rate, delay = asyncio.run(edits())
        finally:
            server.stop()
        ids = [pad.session_id for pad in writers]
        rows = seed.execute(
            database,
            [
                # The writers' documents only (uuids made above): each stored update is a version.
                "SELECT COALESCE(SUM(version), 0) FROM code_documents WHERE session_id IN ("
                + ", ".join(f"'{i}'" for i in ids)
                + ")"
            ],
        )[0]
        stored = int(rows[0][0])
        # Kept out of the edits' writers (whose documents are cached): a fresh process.
        server = start_peerview(database, free_port(), 1, **UNLIMITED)
        try:

            async def memory() -> tuple[int, int, int, float]:
                pairs = await connect_pads(server.base, opened)
                try:
                    return await opened_memory(server, pairs, snapshot)
                finally:
                    await close(pairs)

            before, loaded, after, took = asyncio.run(memory())
        finally:
            server.stop()
    finally:
        drop_pads(database)
    return Figures(
        kind=database.kind,
        throughput=rate,
        latency=delay,
        stored=stored,
        documents=sizes.documents,
        text_bytes=len(text.encode()),
        rss_before=before,
        rss_after=after,
        sync_seconds=took,
        load=os.getloadavg()[0],
        rss_loaded=loaded,
    )


def codepad(
    database_name: str, plan: seed.Plan, quick: bool, lines: list[str], machine: list[str]
) -> None:
    """The section's markdown into `lines` and its `CODEPAD` lines into `machine`."""
    sizes = QUICK if quick else FULL
    kinds = ["sqlite"]
    if postgres_answers():
        kinds.append("postgresql")
    else:
        log("codepad: PostgreSQL does not answer; SQLite only")
    figures = []
    for kind in kinds:
        started = time.monotonic()
        f = run_database(Database(kind, database_name), plan, sizes)
        figures.append(f)
        t, lat = f.throughput, f.latency
        log(
            f"codepad {kind}: {t.per_second:.0f} updates/s; push p50 "
            f"{percentile(lat.push_ms, 50):.2f} p99 {percentile(lat.push_ms, 99):.2f} ms; "
            f"{f.per_document_kib:.0f} KiB a document ({time.monotonic() - started:.0f} s)"
        )
    lines += [
        "### Code pad",
        "",
        f"One Peerview process. *Throughput*: {2 * sizes.writers} participants of "
        f"{sizes.writers} LIVE sessions each send small Yjs edits (1 to 4 characters typed, or one "
        "deleted) as fast as their acknowledgements come back, one in flight per socket; "
        f"acknowledged (stored and committed) updates a second over {sizes.seconds:.0f} s after "
        "a second's warm-up, the per-socket limits raised. *Latency*: "
        f"{sizes.latency_sessions} sessions at {sizes.rate:.0f} edits/s each, the two participants "
        "in turn; from just before an edit is sent to its `code_update` push at the other "
        f"participant. *Memory*: {sizes.documents} stored documents "
        f"({figures[0].text_bytes:,} bytes of text typed in 1,500 small edits by two people) "
        "synced by both participants; the server's resident memory after, less before, per "
        "document (*of which the document*: after the server loaded the documents for "
        "participants who held them already, before any was sent whole to a socket). "
        "Clients: `bench/lean_socket.py` with a `pycrdt` document each.",
        "",
        "| database | updates/s | ack p50 ms | ack p99 ms | server CPU ms/update | push p50 ms "
        "| push p99 ms | push ack p99 ms | lost | refused | KiB per open document "
        "| of which the document |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for f in figures:
        t, lat = f.throughput, f.latency
        refused = sum(t.refused.values()) + lat.refused
        lines.append(
            f"| {f.kind} | {t.per_second:,.0f} | {percentile(t.ack_ms, 50):.1f} | "
            f"{percentile(t.ack_ms, 99):.1f} | {t.server_cpu_ms:.2f} | "
            f"{percentile(lat.push_ms, 50):.2f} | {percentile(lat.push_ms, 99):.2f} | "
            f"{percentile(lat.ack_ms, 99):.2f} | {lat.sent - lat.received} | {refused} | "
            f"{f.per_document_kib:.0f} | {f.loaded_kib:.0f} |"
        )
        machine.append(
            f"CODEPAD {f.kind} throughput updates_per_s={t.per_second:.1f} acked={t.acked} "
            f"acked_all={t.acked_all} stored={f.stored} pushes={t.pushes} "
            f"ack_p50_ms={percentile(t.ack_ms, 50):.2f} ack_p99_ms={percentile(t.ack_ms, 99):.2f} "
            f"server_cpu_ms={t.server_cpu_ms:.3f} client_cpu_ms={t.client_cpu_ms:.3f} "
            f"refused={dict(t.refused)}"
        )
        machine.append(
            f"CODEPAD {f.kind} latency samples={len(lat.push_ms)} sent={lat.sent} "
            f"p50_ms={percentile(lat.push_ms, 50):.2f} p99_ms={percentile(lat.push_ms, 99):.2f} "
            f"max_ms={max(lat.push_ms, default=float('nan')):.2f} "
            f"ack_p50_ms={percentile(lat.ack_ms, 50):.2f} "
            f"ack_p99_ms={percentile(lat.ack_ms, 99):.2f} refused={lat.refused}"
        )
        machine.append(
            f"CODEPAD {f.kind} memory documents={f.documents} text_bytes={f.text_bytes} "
            f"rss_before_kib={f.rss_before} rss_after_kib={f.rss_after} "
            f"per_document_kib={f.per_document_kib:.1f} loaded_kib={f.loaded_kib:.1f} "
            f"rss_loaded_kib={f.rss_loaded} "
            f"sync_s={f.sync_seconds:.2f} "
            f"load={f.load:.2f}"
        )
    lines.append("")
