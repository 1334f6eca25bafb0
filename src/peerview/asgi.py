"""The ASGI application that servers load (`uvicorn peerview.asgi:app --factory`).

Socket.IO answers under /socket.io; everything else goes to the FastAPI application.
"""

from __future__ import annotations

import socketio
from fastapi import FastAPI
from starlette.types import ASGIApp

from peerview.main import create_app


def wrap(application: FastAPI) -> ASGIApp:
    """`application` with its Socket.IO server (made by create_app) in front of it."""
    wrapped: ASGIApp = socketio.ASGIApp(
        application.state.sio, other_asgi_app=application, socketio_path="socket.io"
    )
    return wrapped


def app() -> ASGIApp:
    return wrap(create_app())
