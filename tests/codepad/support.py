"""Code pad clients for tests: a Socket.IO peer with its own Yjs document (pycrdt)."""

from __future__ import annotations

import base64
from typing import Any

from pycrdt import Doc, Text

from tests.realtime.support import Peer


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


class Pad:
    """A participant's editor: a Yjs document bound to a socket, as the browser's is.

    It sends each local edit as a `code_update` and applies the updates relayed to it;
    `pending` holds the edits sent but not acknowledged (a dropped connection loses their
    acks, not necessarily the edits), sent again after a reconnection's sync.
    """

    def __init__(self, peer: Peer, session_id: str) -> None:
        self.peer = peer
        self.session_id = session_id
        self.doc: Doc[Text] = Doc()
        self.text = self.doc.get("code", type=Text)
        self.applied = 0  # relayed updates applied so far
        self.acked: list[str] = []  # the text right after each acknowledged edit of ours

    async def sync(self) -> dict[str, Any]:
        ack = await self.peer.call(
            "code_sync",
            {"session_id": self.session_id, "state_vector": b64(self.doc.get_state())},
        )
        assert ack["ok"] is True, ack
        self.doc.apply_update(unb64(ack["update"]))
        # What the server lacks of ours (edits whose ack a dropped connection lost).
        missing = self.doc.get_update(unb64(ack["state_vector"]))
        if missing != b"\x00\x00":
            sent = await self.send(missing)
            assert sent["ok"] is True, sent
        return dict(ack)

    def take_relayed(self) -> None:
        relayed = self.peer.received["code_update"]
        for event in relayed[self.applied :]:
            assert event["session_id"] == self.session_id
            self.doc.apply_update(unb64(event["update"]))
        self.applied = len(relayed)

    async def send(self, update: bytes) -> Any:
        return await self.peer.call(
            "code_update", {"session_id": self.session_id, "update": b64(update)}
        )

    async def edit(self, index: int, insert: str = "", delete: int = 0) -> Any:
        """One local edit at character `index` (clamped) deleting `delete` characters, then
        inserting `insert`, sent; the ack. (pycrdt's indices are UTF-8 byte offsets.)"""
        self.take_relayed()
        before = self.doc.get_state()
        current = str(self.text)
        index = max(0, min(index, len(current)))
        start = len(current[:index].encode())
        if delete:
            stop = len(current[: index + delete].encode())
            if stop > start:
                del self.text[start:stop]
        if insert:
            self.text.insert(start, insert)
        ack = await self.send(self.doc.get_update(before))
        return ack

    def __str__(self) -> str:
        return str(self.text)
