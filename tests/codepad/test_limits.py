"""The code pad's limits and storage (docs/api.md §5.7): document size, update rate,
compaction, and a document read back by a process that never held it."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from peerview.clock import FakeClock
from peerview.codepad import repository
from peerview.config import Settings
from peerview.main import close_services, create_app
from tests.codepad.support import Pad
from tests.factories import Factory
from tests.flow import live
from tests.realtime.support import joined, serve

MAX_BYTES = 64
COMPACT_EVERY = 5
RATE = 5


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "code_max_bytes": MAX_BYTES,
            "code_compact_every": COMPACT_EVERY,
            "code_updates_per_second": RATE,
        }
    )


async def test_a_text_over_the_size_limit_is_refused_and_shrinking_is_always_allowed(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    caller, callee = await joined(live_url, flow)
    mine, theirs = Pad(caller, flow.id), Pad(callee, flow.id)
    try:
        await mine.sync()
        assert (await mine.edit(0, "é" * 30))["ok"]  # 60 bytes of UTF-8
        assert await mine.edit(0, "abcde") == {"ok": False, "code": "CODE_TOO_LARGE"}
        other = Pad(callee, flow.id)
        await other.sync()
        assert str(other) == "é" * 30
        response = await client.get(
            f"/api/interview-sessions/{flow.id}/code", headers=flow.interviewee.headers
        )
        assert response.json()["text"] == "é" * 30
        # A fresh client (the refused edit is still in `mine`'s document) deletes.
        assert (await other.edit(0, delete=10))["ok"]
        await theirs.peer.barrier()
    finally:
        await caller.close()
        await callee.close()


async def test_more_updates_than_the_rate_are_refused(live_url: str, factory: Factory) -> None:
    flow = await live(factory)
    caller, callee = await joined(live_url, flow)
    mine = Pad(caller, flow.id)
    try:
        await mine.sync()
        acks = [await mine.send(b"\x00\x00") for _ in range(2 * RATE + 3)]
        assert acks[: 2 * RATE] == [{"ok": True}] * (2 * RATE)  # burst: twice the rate
        assert {"ok": False, "code": "TOO_MANY_REQUESTS"} in acks[2 * RATE :]
    finally:
        await caller.close()
        await callee.close()


async def test_compaction_keeps_the_document_and_a_new_process_reads_it_back(
    live_url: str, factory: Factory, app: FastAPI, settings: Settings, clock: FakeClock
) -> None:
    flow = await live(factory)
    caller, callee = await joined(live_url, flow)
    mine, theirs = Pad(caller, flow.id), Pad(callee, flow.id)
    try:
        await mine.sync()
        await theirs.sync()
        for n in range(2 * COMPACT_EVERY + 2):
            pad = mine if n % 2 else theirs
            pad.take_relayed()
            assert (await pad.edit(len(pad.text), str(n % 10)))["ok"], n
            # The other side has it before it edits next.
            await (theirs if pad is mine else mine).peer.wait_for("code_update", n // 2 + 1)
        async with app.services.database.transaction(write=False) as db:
            left = await repository.updates_after(db, flow.id, 0)
            head = await repository.head(db, flow.id)
        assert head is not None
        assert head.version == 2 * COMPACT_EVERY + 2
        assert [version for version, _ in left] == [2 * COMPACT_EVERY + 1, 2 * COMPACT_EVERY + 2]
        expected = "".join(str(n % 10) for n in range(2 * COMPACT_EVERY + 2))
        assert head.text == expected
    finally:
        await caller.close()
        await callee.close()

    # Another process: nothing in memory, the document read from the database.
    other = create_app(settings, clock)
    try:
        async with serve(other) as url:
            caller, callee = await joined(url, flow)
            try:
                fresh = Pad(callee, flow.id)
                await fresh.sync()
                assert str(fresh) == expected
                assert (await fresh.edit(0, ">"))["ok"]
                await caller.wait_for("code_update")
            finally:
                await caller.close()
                await callee.close()
    finally:
        await close_services(other.services)
