"""The floor of the relay benchmark: a bare python-socketio relay with no rule of Peerview's.

Served by granian as Peerview is (`granian --interface asgi relay_anchor:app`), with the same
Socket.IO settings (in-order handlers), it answers `join` and relays `signal` to the session's other
sockets without reading anything: what the Socket.IO stack and the benchmark's own client cost,
measured by the same client under the same conditions.
"""

from __future__ import annotations

from typing import Any

import socketio

sio = socketio.AsyncServer(
    async_mode="asgi", async_handlers=False, logger=False, engineio_logger=False
)
app = socketio.ASGIApp(sio)


@sio.on("connect")
async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
    return True


@sio.on("join")
async def join(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    await sio.enter_room(sid, f"session:{data['session_id']}")
    return {"ok": True, "peers": [], "session": {}, "ice_servers": []}


@sio.on("signal")
async def signal(sid: str, data: dict[str, Any]) -> dict[str, Any]:
    relayed = {"from": sid, "type": data["type"], "data": data["data"]}
    await sio.emit("signal", relayed, room=f"session:{data['session_id']}", skip_sid=sid)
    return {"ok": True}
