"""Two participants editing the same spot at once converge (docs/api.md §5.7): a property over
interleavings of their edits and of dropped connections.

Each example runs two real Socket.IO clients against the served app. A client edits at a
random spot (often the same one as the other), sends without waiting (edits cross on the
wire), and sometimes drops its connection mid-way and comes back: a new socket, a join, and
a sync that sends what the server lacks. In the end both, a late joiner and the stored text
agree. PEERVIEW_CODEPAD_EXAMPLES raises the number of examples (the soak runs use more).
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.codepad.support import Pad
from tests.factories import Factory
from tests.flow import Flow, live
from tests.realtime.support import Peer

EXAMPLES = int(os.environ.get("PEERVIEW_CODEPAD_EXAMPLES", "25"))


@dataclass(frozen=True)
class Step:
    who: int  # 0 the interviewer, 1 the interviewee
    kind: str  # "insert" | "delete" | "drop"
    at: int  # a spot, clamped to the text
    text: str


STEPS = st.lists(
    st.builds(
        Step,
        who=st.integers(0, 1),
        kind=st.sampled_from(["insert", "insert", "insert", "delete", "drop"]),
        # Small spots: both often edit the same one.
        at=st.integers(0, 4),
        text=st.text(alphabet="ab\né😀", min_size=1, max_size=3),
    ),
    min_size=2,
    max_size=14,
)


async def connect(url: str, flow: Flow, who: int) -> Pad:
    user = flow.interviewer if who == 0 else flow.interviewee
    peer = await Peer(url, user.token).connect()
    ack = await peer.join(flow.id)
    assert ack["ok"] is True, ack
    return Pad(peer, flow.id)


async def reconnect(url: str, flow: Flow, pad: Pad, who: int) -> Pad:
    """The same editor (document kept) on a new socket, synced: the reload of a tab that
    kept its state, or a dropped connection coming back."""
    fresh = await connect(url, flow, who)
    fresh.doc, fresh.text = pad.doc, pad.text
    await fresh.sync()
    return fresh


async def settle(pads: list[Pad]) -> None:
    """Every relayed update in and applied (a barrier per socket, twice: each side's last
    edits are relayed before the other's barrier answers)."""
    for _ in range(2):
        for pad in pads:
            await pad.peer.barrier()
    for pad in pads:
        pad.take_relayed()


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
async def test_two_editors_converge_over_interleavings_and_dropped_connections(
    live_url: str, factory: Factory, client: httpx.AsyncClient, steps: list[Step]
) -> None:
    flow = await live(factory)  # a session of its own for each example
    await run_steps(live_url, flow, client, steps)


async def run_steps(url: str, flow: Flow, client: httpx.AsyncClient, steps: list[Step]) -> None:
    pads = [await connect(url, flow, 0), await connect(url, flow, 1)]
    try:
        for pad in pads:
            await pad.sync()
        in_flight: list[asyncio.Task[object]] = []
        for step in steps:
            pad = pads[step.who]
            if step.kind == "drop":
                await asyncio.gather(*in_flight, return_exceptions=True)
                in_flight.clear()
                await pad.peer.close()
                pads[step.who] = await reconnect(url, flow, pad, step.who)
                continue
            if step.kind == "insert":
                edit = pad.edit(step.at, step.text)
            else:
                edit = pad.edit(step.at, delete=len(step.text))
            # Sent now, answered whenever: the other's edit may cross it.
            in_flight.append(asyncio.ensure_future(edit))
            await asyncio.sleep(0)
        for ack in await asyncio.gather(*in_flight):
            assert ack == {"ok": True}, ack
        await settle(pads)
        assert str(pads[0]) == str(pads[1])
        late = await connect(url, flow, 1)
        try:
            await late.sync()
            assert str(late) == str(pads[0])
        finally:
            await late.peer.close()
        response = await client.get(
            f"/api/interview-sessions/{flow.id}/code", headers=flow.interviewee.headers
        )
        assert response.json()["text"] == str(pads[0])
    finally:
        for pad in pads:
            await pad.peer.close()
