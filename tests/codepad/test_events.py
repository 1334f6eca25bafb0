"""The code pad over Socket.IO (docs/api.md §5.7, §8.2): sync, updates, relay, awareness."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pycrdt import Doc, Map, Text

from tests.codepad.support import Pad, b64
from tests.factories import Factory
from tests.flow import Flow, accepted, live
from tests.realtime.support import joined, peers


async def code_of(client: httpx.AsyncClient, flow: Flow) -> dict[str, object]:
    response = await client.get(
        f"/api/interview-sessions/{flow.id}/code", headers=flow.interviewer.headers
    )
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


async def pads(url: str, flow: Flow) -> tuple[Pad, Pad]:
    caller, callee = await joined(url, flow)
    return Pad(caller, flow.id), Pad(callee, flow.id)


async def close(*pads_: Pad) -> None:
    for pad in pads_:
        await pad.peer.close()


async def test_an_acknowledged_edit_is_stored_and_relayed_to_the_other_participant(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    mine, theirs = await pads(live_url, flow)
    try:
        ack = await mine.sync()
        assert ack == {
            "ok": True,
            "update": ack["update"],
            "state_vector": ack["state_vector"],
            "language": "plaintext",
            "editable": True,
        }
        assert await mine.edit(0, "print('hi')") == {"ok": True}
        [relayed] = await theirs.peer.wait_for("code_update")
        assert relayed["session_id"] == flow.id
        assert relayed["from"] == flow.interviewer.id
        theirs.take_relayed()
        assert str(theirs) == "print('hi')"
        code = await code_of(client, flow)
        assert code["text"] == "print('hi')"
        assert code["updated_at"] is not None
        # Not sent back to the sender.
        await mine.peer.barrier()
        assert mine.peer.received["code_update"] == []
    finally:
        await close(mine, theirs)


async def test_a_late_joiner_and_a_reload_get_exactly_the_same_text(
    live_url: str, factory: Factory
) -> None:
    flow = await live(factory)
    mine, theirs = await pads(live_url, flow)
    try:
        await mine.sync()
        await theirs.sync()
        for n in range(5):
            assert (await mine.edit(n * 3, f"a{n}\n"))["ok"]
            assert (await theirs.edit(0, f"b{n}"))["ok"]
        await theirs.peer.wait_for("code_update", 5)
        await mine.peer.wait_for("code_update", 5)
        mine.take_relayed()
        theirs.take_relayed()
        assert str(mine) == str(theirs)
        # Another tab of the interviewee, and a reload of the interviewer's: new sockets.
        async with peers(live_url, flow.interviewee.token, flow.interviewer.token) as (
            late,
            reloaded,
        ):
            for peer in (late, reloaded):
                assert (await peer.join(flow.id))["ok"]
                fresh = Pad(peer, flow.id)
                await fresh.sync()
                assert str(fresh) == str(mine)
    finally:
        await close(mine, theirs)


async def test_edits_are_refused_before_the_session_is_live_and_after_it_ended(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    lobby = await accepted(factory)
    mine, theirs = await pads(live_url, lobby)
    try:
        ack = await mine.sync()
        assert ack["editable"] is False
        assert await mine.edit(0, "early") == {"ok": False, "code": "INVALID_SESSION_STATE"}
    finally:
        await close(mine, theirs)

    flow = await live(factory)
    mine, theirs = await pads(live_url, flow)
    try:
        await mine.sync()
        assert (await mine.edit(0, "kept"))["ok"]
        response = await client.post(
            f"/api/interview-sessions/{flow.id}/end", headers=flow.interviewer.headers
        )
        assert response.status_code == 200, response.text
        assert await mine.edit(0, "late") == {"ok": False, "code": "INVALID_SESSION_STATE"}
        refused = await mine.peer.call("code_sync", {"session_id": flow.id, "state_vector": ""})
        assert refused == {"ok": False, "code": "INVALID_SESSION_STATE"}
        assert (await code_of(client, flow))["text"] == "kept"
    finally:
        await close(mine, theirs)


def foreign_update(build: str) -> bytes:
    doc: Doc[object] = Doc()
    if build == "other root":
        doc.get("notes", type=Text).insert(0, "x")
    elif build == "map":
        doc.get("code", type=Map)["k"] = "v"
    elif build == "format":
        text = doc.get("code", type=Text)
        text.insert(0, "x")
        text.format(0, 1, {"bold": True})
    elif build == "embed":
        doc.get("code", type=Text).insert_embed(0, {"image": "x"})
    return doc.get_update()


@pytest.mark.parametrize(
    "update",
    [
        "not base64!",
        b64(b"\x05\x01\x02"),
        b64(b"garbage that is not a yjs update"),
        b64(foreign_update("other root")),
        b64(foreign_update("map")),
        b64(foreign_update("format")),
        b64(foreign_update("embed")),
        "nul",
    ],
    ids=["not-base64", "truncated", "garbage", "other-root", "map", "format", "embed", "nul"],
)
async def test_a_malformed_update_is_refused_and_changes_nothing(
    live_url: str, factory: Factory, client: httpx.AsyncClient, update: str
) -> None:
    flow = await live(factory)
    mine, theirs = await pads(live_url, flow)
    try:
        await mine.sync()
        assert (await mine.edit(0, "before"))["ok"]
        await theirs.peer.wait_for("code_update")
        if update == "nul":  # a well-formed update inserting U+0000
            doc = mine.doc
            state = doc.get_state()
            mine.text.insert(0, "\x00")
            update = b64(doc.get_update(state))
        stored = await code_of(client, flow)
        ack = await mine.peer.call("code_update", {"session_id": flow.id, "update": update})
        assert ack == {"ok": False, "code": "MALFORMED_UPDATE"}
        assert await code_of(client, flow) == stored
        late = Pad(theirs.peer, flow.id)
        await late.sync()
        assert str(late) == "before"
        await theirs.peer.barrier()
        assert len(theirs.peer.received["code_update"]) == 1  # nothing relayed
    finally:
        await close(mine, theirs)


async def test_an_update_building_on_a_refused_one_is_refused_until_the_client_syncs(
    live_url: str, factory: Factory, app: FastAPI
) -> None:
    flow = await live(factory)
    mine, theirs = await pads(live_url, flow)
    try:
        await mine.sync()
        state = mine.doc.get_state()
        mine.text.insert(0, "lost ")  # never sent: as if refused
        middle = mine.doc.get_state()
        mine.text.insert(5, "then")
        later = mine.doc.get_update(middle)
        assert await mine.send(later) == {"ok": False, "code": "MALFORMED_UPDATE"}
        assert mine.doc.get_update(state)  # the client still has both
        await mine.sync()  # sends what the server lacks
        other = Pad(theirs.peer, flow.id)
        await other.sync()
        assert str(other) == "lost then"
    finally:
        await close(mine, theirs)


async def test_an_empty_or_known_update_is_acknowledged_and_not_relayed(
    live_url: str, factory: Factory
) -> None:
    flow = await live(factory)
    mine, theirs = await pads(live_url, flow)
    try:
        await mine.sync()
        state = mine.doc.get_state()
        assert (await mine.edit(0, "once"))["ok"]
        again = mine.doc.get_update(state)
        assert await mine.send(again) == {"ok": True}
        assert await mine.send(b"\x00\x00") == {"ok": True}
        await theirs.peer.barrier()
        assert len(theirs.peer.received["code_update"]) == 1
    finally:
        await close(mine, theirs)


async def test_the_sender_s_other_tab_gets_the_update_too(live_url: str, factory: Factory) -> None:
    flow = await live(factory)
    mine, theirs = await pads(live_url, flow)
    async with peers(live_url, flow.interviewer.token) as (tab,):
        assert (await tab.join(flow.id))["ok"]
        try:
            await mine.sync()
            assert (await mine.edit(0, "x"))["ok"]
            await tab.wait_for("code_update")
            await theirs.peer.wait_for("code_update")
        finally:
            await close(mine, theirs)


async def test_awareness_is_relayed_to_the_room_and_never_stored(
    live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await accepted(factory)  # allowed in the lobby too: it is no edit
    mine, theirs = await pads(live_url, flow)
    try:
        payload = {"session_id": flow.id, "update": b64(b"\x01\x02cursor")}
        assert await mine.peer.call("code_awareness", payload) == {"ok": True}
        [heard] = await theirs.peer.wait_for("code_awareness")
        assert heard == {**payload, "from": flow.interviewer.id}
        assert (await code_of(client, flow))["updated_at"] is None
        big = {"session_id": flow.id, "update": b64(b"x" * 4097)}
        assert await mine.peer.call("code_awareness", big) == {
            "ok": False,
            "code": "VALIDATION_ERROR",
        }
    finally:
        await close(mine, theirs)


async def test_events_of_a_session_not_joined_are_refused(live_url: str, factory: Factory) -> None:
    flow = await live(factory)
    async with peers(live_url, flow.interviewer.token) as (peer,):
        for event, body in (
            ("code_sync", {"session_id": flow.id, "state_vector": ""}),
            ("code_update", {"session_id": flow.id, "update": b64(b"\x00\x00")}),
            ("code_awareness", {"session_id": flow.id, "update": b64(b"\x00")}),
        ):
            assert await peer.call(event, body) == {"ok": False, "code": "NOT_JOINED"}
            assert await peer.call(event, {"session_id": flow.id}) == {
                "ok": False,
                "code": "VALIDATION_ERROR",
            }
        ack = await peer.call("code_sync", {"session_id": flow.id, "state_vector": "%%"})
        assert ack == {"ok": False, "code": "VALIDATION_ERROR"}


async def test_a_state_vector_that_cannot_be_read_is_a_validation_error(
    live_url: str, factory: Factory
) -> None:
    flow = await live(factory)
    mine, theirs = await pads(live_url, flow)
    try:
        ack = await mine.peer.call(
            "code_sync", {"session_id": flow.id, "state_vector": b64(b"\xff\xff\xff")}
        )
        assert ack == {"ok": False, "code": "VALIDATION_ERROR"}
    finally:
        await close(mine, theirs)


async def test_an_update_over_the_update_limit_is_refused(live_url: str, factory: Factory) -> None:
    flow = await live(factory)
    mine, theirs = await pads(live_url, flow)
    try:
        await mine.sync()
        ack = await mine.edit(0, "x" * 33_000)
        assert ack == {"ok": False, "code": "UPDATE_TOO_LARGE"}
        peer = Pad(theirs.peer, flow.id)
        await peer.sync()
        assert str(peer) == ""
    finally:
        await close(mine, theirs)


async def test_a_process_forgets_its_working_copy_once_the_session_is_over(
    app: FastAPI, live_url: str, factory: Factory, client: httpx.AsyncClient
) -> None:
    flow = await live(factory)
    mine, theirs = await pads(live_url, flow)
    documents = app.services.realtime.documents  # type: ignore[attr-defined]
    try:
        await mine.sync()
        assert await mine.edit(0, "x = 1") == {"ok": True}
        assert len(documents) == 1
        ended = await client.post(
            f"/api/interview-sessions/{flow.id}/end", headers=flow.interviewer.headers
        )
        assert ended.status_code == 200, ended.text
        assert len(documents) == 0
        # The final code is still read from the database.
        assert (await code_of(client, flow))["text"] == "x = 1"
    finally:
        await close(mine, theirs)
