"""The code pad across real `peerview serve` processes (docs/api.md §5.7, §8.6): every
acknowledged edit survives a SIGKILL, and two processes sharing Redis hold one document.

The servers run on the test's database with their own (system) clocks, so the session is
scheduled minutes from now and started through the API.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path

from peerview.clock import FakeClock
from tests.codepad.support import Pad
from tests.factories import Factory
from tests.realtime.support import Peer
from tests.realtime.test_two_processes import live_session_through, until_healthy
from tests.support.environment import TEST_SECRET
from tests.support.servers import free_port, peerview_process

LIVES = 2  # servers killed, each after its own acknowledged edits


def environment(database_url: str, redis_url: str | None = None) -> dict[str, str]:
    env = {
        **os.environ,
        "PEERVIEW_ENV": "test",
        "DATABASE_URL": database_url,
        "JWT_SECRET": TEST_SECRET,
        "SWEEPER_ENABLED": "false",
        "REQUEST_EXPIRY_BUFFER_HOURS": "0.001",
        "LOG_LEVEL": "WARNING",
        "CODE_COMPACT_EVERY": "7",  # compactions happen between the kills too
    }
    for name in ("CORS_ORIGINS", "SMTP_URL", "REDIS_URL"):
        env.pop(name, None)
    if redis_url:
        env["REDIS_URL"] = redis_url
        env["SOCKETIO_CHANNEL"] = f"peerview-test-{uuid.uuid4().hex}"
    return env


@contextmanager
def server(env: dict[str, str], log: Path, port: int) -> Iterator[tuple[str, object]]:
    with peerview_process(env, log, migrate=False, port=port) as (url, process):
        yield url, process


async def pad_on(url: str, token: str, session_id: str) -> Pad:
    peer = await Peer(url, token).connect()
    ack = await peer.join(session_id)
    assert ack["ok"] is True, ack
    pad = Pad(peer, session_id)
    await pad.sync()
    return pad


async def test_every_acknowledged_edit_survives_a_sigkill_of_the_server(
    database_url: str, factory: Factory, clock: FakeClock, tmp_path: Path
) -> None:
    clock.set(datetime.now(UTC))
    interviewer, interviewee = await factory.interviewer(), await factory.interviewee()
    env = environment(database_url)
    port = free_port()
    acknowledged = ""
    session_id = None
    for life in range(LIVES):
        log = tmp_path / f"life-{life}.log"
        with server(env, log, port) as (url, process):
            await until_healthy(url, process, log)  # type: ignore[arg-type]
            if session_id is None:
                session_id = await live_session_through(url, interviewer, interviewee)
            pad = await pad_on(url, interviewee.token, session_id)
            # What the server has: at least every edit acknowledged before the kill.
            assert str(pad).startswith(acknowledged), (str(pad), acknowledged)
            acknowledged = str(pad)
            for n in range(10):
                ack = await pad.edit(len(str(pad)), f"{life}.{n};")
                assert ack == {"ok": True}, ack
                acknowledged = str(pad)
            # Killed right after an acknowledgement, with more edits on the wire.
            unacked = asyncio.ensure_future(pad.edit(len(str(pad)), "?"))
            await asyncio.sleep(0)
            process.send_signal(signal.SIGKILL)  # type: ignore[attr-defined]
            unacked.cancel()  # the dying server may never answer it
            with contextlib.suppress(BaseException):
                await unacked
            await pad.peer.close()
    with server(env, tmp_path / "last.log", port) as (url, process):
        await until_healthy(url, process, tmp_path / "last.log")  # type: ignore[arg-type]
        assert session_id is not None
        pad = await pad_on(url, interviewer.token, session_id)
        expected = "".join(f"{life}.{n};" for life in range(LIVES) for n in range(10))
        assert str(pad).replace("?", "") == expected
        await pad.peer.close()


async def test_two_processes_with_redis_hold_one_document(
    database_url: str, redis_url: str, factory: Factory, clock: FakeClock, tmp_path: Path
) -> None:
    clock.set(datetime.now(UTC))
    interviewer, interviewee = await factory.interviewer(), await factory.interviewee()
    env = environment(database_url, redis_url)
    with ExitStack() as stack:
        urls = []
        for name in ("first", "second"):
            log = tmp_path / f"{name}.log"
            url, process = stack.enter_context(server(env, log, free_port()))
            await until_healthy(url, process, log)  # type: ignore[arg-type]
            urls.append(url)
        first, second = urls
        session_id = await live_session_through(first, interviewer, interviewee)
        mine = await pad_on(first, interviewer.token, session_id)
        theirs = await pad_on(second, interviewee.token, session_id)
        try:
            for n in range(6):
                # Both at the same spot at once, each on its own process.
                acks = [await mine.edit(0, f"A{n}"), await theirs.edit(0, f"B{n}")]
                assert acks == [{"ok": True}] * 2
            await mine.peer.wait_for("code_update", 6)
            await theirs.peer.wait_for("code_update", 6)
            mine.take_relayed()
            theirs.take_relayed()
            assert str(mine) == str(theirs)
            assert len(str(mine)) == 24
            for url in (first, second):
                late = await pad_on(url, interviewee.token, session_id)
                assert str(late) == str(mine)
                await late.peer.close()
        finally:
            await mine.peer.close()
            await theirs.peer.close()
