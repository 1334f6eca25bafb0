"""The ASGI application that servers load (`peerview.asgi:app`, a factory).

Socket.IO answers under /socket.io; everything else goes to the FastAPI application.
"""

from __future__ import annotations

import asyncio
import gc
import os

import socketio
from starlette.types import ASGIApp, Receive, Scope, Send

from peerview.main import PeerviewApp, create_app
from peerview.realtime.routing import WorkerRouter, route_tag

# The cycle collector's thresholds in a server process. Python's (700, 10, 10) run a young
# collection every 700 allocations and a full one every 100 of those: with a thousand sockets
# open, full sweeps landed inside signal bursts (`bench/scale.py --only relay`, one process:
# burst p99 68 ms, against 38 ms with these). Requests make few cycles; they are still
# collected, in fewer, larger young collections.
GC_THRESHOLDS = (20_000, 20, 50)


def wrap(application: PeerviewApp) -> ASGIApp:
    """`application` with its Socket.IO server (made by create_app) in front of it."""
    wrapped: ASGIApp = socketio.ASGIApp(
        application.services.realtime.sio, other_asgi_app=application, socketio_path="socket.io"
    )
    return wrapped


class ServedApp:
    """The application a server process serves, told by the server when it begins to stop.

    Its Socket.IO session ids name this process (realtime/routing.py); beside sibling workers,
    a request for one of their sessions is passed to the worker that holds it.
    """

    def __init__(self, application: PeerviewApp) -> None:
        realtime = application.services.realtime
        self.sio: socketio.AsyncServer = realtime.sio
        realtime.sio.eio.route = route_tag(application.services.settings.node_name, os.getpid())
        self.asgi = wrap(application)
        self.router = WorkerRouter.from_environment(self.asgi)
        self._closing: asyncio.Task[None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        router = self.router
        if router is None:
            await self.asgi(scope, receive, send)
        elif scope["type"] == "lifespan":
            await router.start()
            try:
                await self.asgi(scope, receive, send)
            finally:
                await router.stop()
        elif not await router.forward(scope, receive, send):
            await self.asgi(scope, receive, send)

    def stopping(self) -> None:
        """Close every Socket.IO client; called on the event loop as the server stops accepting.

        A client on the polling transport always has a request in flight: a long poll,
        answered within Engine.IO's ping interval (25 s). The server lets the requests in
        flight finish before it runs the lifespan shutdown, and kills a worker still busy after
        20 s: one such client would cost the shutdown. Closed, every client gets Engine.IO's
        close packet (its long poll answers at once) and its disconnect is handled as any other.
        """
        if self._closing is None and self.sio.eio.sockets:
            self._closing = asyncio.get_running_loop().create_task(self.sio.eio.disconnect())


def app() -> ServedApp:
    served = ServedApp(create_app())
    # What start-up made (modules, routes, prebuilt statements) lives as long as the process:
    # kept out of the collector's full sweeps, which then walk only what requests made.
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    return served
