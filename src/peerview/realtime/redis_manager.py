"""Socket.IO's Redis manager, listening again within seconds of Redis coming back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import socketio

from peerview.realtime.engine import Manager

# The longest wait between two attempts to resubscribe after Redis went away.
LISTEN_RETRY_MAX_SECONDS = 2.0


class RedisManager(socketio.AsyncRedisManager, Manager):  # type: ignore[misc]
    """python-socketio's AsyncRedisManager with a bounded wait between resubscriptions, whose
    emits to this process's sockets are `peerview.realtime.engine.Manager`'s.

    The library doubles its wait after every failed attempt up to a minute, so a process
    could go on for up to a minute after an outage without hearing the other processes
    (emits to its own sockets are delivered all along; only what crosses processes is
    lost meanwhile). This is the library's listener (python-socketio 5.18) with the wait
    capped at LISTEN_RETRY_MAX_SECONDS.
    """

    async def _redis_listen_with_retries(self) -> AsyncIterator[Any]:
        retry_sleep = 1.0
        subscribed = False
        while True:
            try:
                if not subscribed:
                    self._redis_connect()
                    await self.pubsub.subscribe(self.channel)
                    retry_sleep = 1.0
                async for message in self.pubsub.listen():
                    yield message
            except Exception as exc:
                self._get_logger().error(
                    f"Cannot receive from redis... retrying in {retry_sleep} secs",
                    extra={"redis_exception": str(exc)},
                )
                subscribed = False
                await asyncio.sleep(retry_sleep)
                retry_sleep = min(retry_sleep * 2, LISTEN_RETRY_MAX_SECONDS)
