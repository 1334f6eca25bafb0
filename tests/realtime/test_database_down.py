"""Socket events while the database is down (docs/api.md §8.2): every event is answered,
`{ok: false, code: "SERVICE_UNAVAILABLE"}` when it needs the database, as REST answers 503;
nothing is half done, the socket stays, and all is well again once the database is back.
Anything unexpected is answered too (`INTERNAL_ERROR`), never left without an ack.

The database is taken away under a running application (tests/support/outage.py): on
PostgreSQL a relay in front of the test's server is cut, on SQLite the file is moved aside.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import pytest
from fastapi import FastAPI

from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.realtime import server as realtime_server
from tests.codepad.support import Pad
from tests.factories import Factory
from tests.flow import accepted, live
from tests.platform.apps import extra_app
from tests.practice.support import interviewer_of, practice_question, started, transcript
from tests.realtime.support import peers, serve
from tests.support.outage import Outage, database_outage

OFFER = {"type": "offer", "sdp": "v=0 offer"}
UNAVAILABLE = {"ok": False, "code": "SERVICE_UNAVAILABLE"}
ANSWER_BOUND = 2.0  # seconds: a refusal, not a hang


@pytest.fixture
async def outage(database_url: str) -> AsyncIterator[Outage]:
    async with database_outage(database_url) as taken:
        yield taken


@pytest.fixture
async def exposed(outage: Outage, settings: Settings, clock: FakeClock) -> AsyncIterator[FastAPI]:
    """The application under test, on the database the outage takes away."""
    over_outage = settings.model_copy(
        update={"database_url": outage.url, "database_connect_timeout_seconds": 1}
    )
    async with extra_app(over_outage, clock) as application:
        yield application


async def test_join_leave_and_signal_answer_service_unavailable_while_the_database_is_down(
    exposed: FastAPI, outage: Outage, factory: Factory, app: FastAPI
) -> None:
    flow = await accepted(factory)
    realtime = exposed.services.realtime
    tokens = (flow.interviewer.token, flow.interviewee.token, flow.interviewee.token)
    async with serve(exposed) as url, peers(url, *tokens) as (caller, callee, tab):
        for socket_ in (caller, callee):  # while the database answers
            assert (await socket_.join(flow.id))["ok"] is True
        await caller.barrier()
        await outage.cut(exposed.services.database, app.services.database)

        # What the relay already knows needs no database: that signal is relayed.
        assert await caller.send_signal(flow.id, "offer", OFFER) == {"ok": True}
        await callee.wait_for("signal")
        # What must be read from it is refused, at once.
        realtime.cache.clear()
        started = time.monotonic()
        assert await tab.join(flow.id) == UNAVAILABLE
        assert await caller.send_signal(flow.id, "offer", OFFER) == UNAVAILABLE
        assert await caller.call("leave", {"session_id": flow.id}) == UNAVAILABLE
        assert time.monotonic() - started < 3 * ANSWER_BOUND

        await outage.restore()
        # Nothing was half done: the refused join entered no room, the refused signal reached
        # nobody, the refused leave left none; every socket stayed.
        for socket_ in (caller, callee, tab):
            await socket_.barrier()
            assert socket_.client.connected
            assert socket_.received["access_revoked"] == []
        assert len(callee.received["signal"]) == 1
        assert tab.received["signal"] == []
        assert callee.received["presence"] == []
        joined = await tab.join(flow.id)
        assert joined["ok"] is True, joined
        assert joined["peers"] == [flow.interviewer.id]
        assert await caller.send_signal(flow.id, "offer", OFFER) == {"ok": True}
        for socket_ in (callee, tab):
            await socket_.wait_for("signal", 2 if socket_ is callee else 1)
        assert await caller.call("leave", {"session_id": flow.id}) == {"ok": True}


async def test_code_pad_events_answer_service_unavailable_while_the_database_is_down(
    exposed: FastAPI, outage: Outage, factory: Factory, app: FastAPI
) -> None:
    flow = await live(factory)
    realtime = exposed.services.realtime
    tokens = (flow.interviewer.token, flow.interviewee.token)
    async with serve(exposed) as url, peers(url, *tokens) as (caller, callee):
        for socket_ in (caller, callee):
            assert (await socket_.join(flow.id))["ok"] is True
        mine, theirs = Pad(caller, flow.id), Pad(callee, flow.id)
        await mine.sync()
        assert await mine.edit(0, "x = 1") == {"ok": True}
        await outage.cut(exposed.services.database, app.services.database)

        realtime.cache.clear()
        realtime.documents.forget(flow.id)
        started = time.monotonic()
        assert (
            await theirs.peer.call("code_sync", {"session_id": flow.id, "state_vector": ""})
            == UNAVAILABLE
        )
        assert await mine.edit(5, "\ny = 2") == UNAVAILABLE
        assert time.monotonic() - started < 2 * ANSWER_BOUND

        await outage.restore()
        # The refused edit was neither stored nor relayed; the sockets stayed, and the pad
        # works again: a sync gives the server what it lacks of ours.
        await callee.barrier()
        assert len(callee.received["code_update"]) == 1
        assert caller.client.connected
        await mine.sync()
        await theirs.sync()
        assert str(theirs) == "x = 1\ny = 2"


async def test_an_unexpected_failure_is_answered_internal_error(
    live_url: str, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    flow = await accepted(factory)

    async def broken(*_: object, **__: object) -> None:
        raise RuntimeError("a defect")

    monkeypatch.setattr(realtime_server.sessions_service, "join", broken)
    async with peers(live_url, flow.interviewee.token) as (peer,):
        assert await peer.join(flow.id) == {"ok": False, "code": "INTERNAL_ERROR"}
        await peer.barrier()  # the socket carries on


async def test_a_practice_message_answers_service_unavailable_while_the_database_is_down(
    exposed: FastAPI, outage: Outage, factory: Factory, app: FastAPI
) -> None:
    await practice_question(factory)
    user = await factory.interviewee()
    session_id = (await started(factory, user))["session"]["id"]
    said = {"session_id": session_id, "text": "Depth first."}
    async with serve(exposed) as url, peers(url, user.token) as (me,):
        assert (await me.join(session_id))["ok"] is True
        await outage.cut(exposed.services.database, app.services.database)
        started_at = time.monotonic()
        assert await me.call("practice_message", said) == UNAVAILABLE
        assert time.monotonic() - started_at < 2 * ANSWER_BOUND

        await outage.restore()
        # Nothing of the refused message was stored or pushed, nor any reply claimed: the next
        # one is taken and answered.
        await me.barrier()
        assert me.client.connected
        assert me.received["practice_message"] == []
        assert [m["kind"] for m in await transcript(factory, user, session_id)] == [
            "intro",
            "question",
        ]
        ack = await me.call("practice_message", said)
        assert ack["ok"] is True, ack
        await interviewer_of(exposed).idle()
    kinds = [m["kind"] for m in await transcript(factory, user, session_id)]
    assert kinds == ["intro", "question", "message", "reply"]
