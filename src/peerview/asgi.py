"""The ASGI application that servers load (`peerview.asgi:app`, a factory).

Socket.IO answers under /socket.io; everything else goes to the FastAPI application.
"""

from __future__ import annotations

import socketio
from starlette.types import ASGIApp

from peerview.main import PeerviewApp, create_app


def wrap(application: PeerviewApp) -> ASGIApp:
    """`application` with its Socket.IO server (made by create_app) in front of it."""
    wrapped: ASGIApp = socketio.ASGIApp(
        application.services.realtime.sio, other_asgi_app=application, socketio_path="socket.io"
    )
    return wrapped


def app() -> ASGIApp:
    return wrap(create_app())
