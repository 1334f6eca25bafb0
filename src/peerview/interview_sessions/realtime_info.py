"""What a participant needs to connect: the Socket.IO room and the ICE servers."""

from __future__ import annotations

from datetime import datetime

from peerview.config import Settings
from peerview.interview_sessions.schemas import IceServer, RealtimeInfo

SOCKET_PATH = "/socket.io"


def room_of(session_id: str) -> str:
    return f"session:{session_id}"


def realtime_for(session_id: str) -> RealtimeInfo:
    return RealtimeInfo(path=SOCKET_PATH, room=room_of(session_id))


def ice_servers(*, settings: Settings, user_id: str, now: datetime) -> list[IceServer]:
    stun = [u.strip() for u in (settings.stun_urls or "").split(",") if u.strip()]
    return [IceServer(urls=stun)] if stun else []
