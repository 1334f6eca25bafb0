"""The floor under the relay benchmark: the same relay in bare ASGI, with no Socket.IO stack.

It speaks just what the benchmark's client speaks (Engine.IO 4 / Socket.IO 5 over a websocket:
open, connect, `join` and `signal` with their acknowledgements) and relays each signal to the
other sockets of its session straight from the receiving handler, reading nothing. Served by
granian (`granian --interface asgi relay_floor:app`), it shows what one Python process and its
server cost per relayed signal with nothing in the way; `bench/relay_anchor.py` is the same
relay on python-socketio.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

OPEN = "0" + json.dumps(
    {"upgrades": [], "pingInterval": 25000, "pingTimeout": 20000, "maxPayload": 1000000}
)

rooms: dict[str, list[Any]] = {}


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] != "websocket":  # any HTTP request: the readiness probe
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    sid = uuid.uuid4().hex
    await send({"type": "websocket.send", "text": OPEN.replace("{", f'{{"sid":"{sid}",', 1)})
    joined: list[str] = []
    try:
        while True:
            message = await receive()
            if message["type"] != "websocket.receive":
                break
            text = message.get("text") or ""
            if text.startswith("40"):
                await send({"type": "websocket.send", "text": f'40{{"sid":"{sid}"}}'})
            elif text.startswith("42"):
                at = text.index("[")
                ack = text[2:at]
                name, data = json.loads(text[at:])[:2]
                room = rooms.setdefault(data["session_id"], [])
                if name == "join":
                    room.append(send)
                    joined.append(data["session_id"])
                    answer: dict[str, Any] = {"ok": True, "peers": [], "ice_servers": []}
                else:
                    relayed = "42" + json.dumps(
                        ["signal", {"from": sid, "type": data["type"], "data": data["data"]}]
                    )
                    for other in room:
                        if other is not send:
                            await other({"type": "websocket.send", "text": relayed})
                    answer = {"ok": True}
                await send({"type": "websocket.send", "text": f"43{ack}" + json.dumps([answer])})
            elif text == "3":
                continue
    finally:
        for session_id in joined:
            room = rooms.get(session_id, [])
            if send in room:
                room.remove(send)
