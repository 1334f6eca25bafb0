"""What a participant needs to connect: the Socket.IO room and the ICE servers (STUN, TURN)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import datetime

from peerview.config import Settings
from peerview.interview_sessions.schemas import IceServer, RealtimeInfo

SOCKET_PATH = "/socket.io"


def room_of(session_id: str) -> str:
    return f"session:{session_id}"


def realtime_for(session_id: str) -> RealtimeInfo:
    return RealtimeInfo(path=SOCKET_PATH, room=room_of(session_id))


def _urls(value: str | None) -> list[str]:
    return [u.strip() for u in (value or "").split(",") if u.strip()]


def turn_credentials(
    *, secret: str, user_id: str, now: datetime, ttl_seconds: int
) -> tuple[str, str]:
    """(username, credential) in coturn's `use-auth-secret` scheme (the TURN REST API).

    The username is "<expiry unix time>:<user id>" and the credential the base64 HMAC-SHA1
    of it under the shared secret: the TURN server checks both without asking Peerview,
    and refuses the pair once the expiry has passed.
    """
    expiry = int(now.timestamp()) + ttl_seconds
    username = f"{expiry}:{user_id}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


def ice_servers(*, settings: Settings, user_id: str, now: datetime) -> list[IceServer]:
    servers: list[IceServer] = []
    stun = _urls(settings.stun_urls)
    if stun:
        servers.append(IceServer(urls=stun))
    turn = _urls(settings.turn_urls)
    if turn and settings.turn_secret:
        username, credential = turn_credentials(
            secret=settings.turn_secret,
            user_id=user_id,
            now=now,
            ttl_seconds=settings.turn_ttl_seconds,
        )
        servers.append(IceServer(urls=turn, username=username, credential=credential))
    return servers
