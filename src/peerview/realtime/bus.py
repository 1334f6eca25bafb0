"""What one server process tells the others: a session changed (its lifecycle or its questions),
a user's access changed.

With Redis, each process publishes its committed `SessionChanged` and `AccessChanged` events on
a pub/sub channel derived from SOCKETIO_CHANNEL (so runs with their own Socket.IO channel stay
apart) and hears everyone else's on it. A process that hears one drops what its relay cache
holds about it, then pushes the `session` event to its own connected sockets.

An announcement the announcer waits on is acknowledged: each listening process, once it has
dropped the entries, answers on the announcer's own channel, and the announcer waits (up to
ACK_WAIT_SECONDS) until as many answers came as Redis counted receivers. So when a REST call
that ended a session or revoked a token has answered, no listening process still trusts what
it cached about it: a signal sent to any of them right after is judged on the new state. A
process that does not answer within the wait (stalled, or its connection silently dead) is
logged; it finds out at its next heartbeat at the latest, and then starts from an empty cache.
Anything else subscribed to the channel (a `redis-cli SUBSCRIBE` left open, say) is counted
by Redis and never answers: each waited announcement then takes the whole wait. The sweeper's
transitions are not waited on: they only persist what `session_at` already says, which every
process applies to its cached times anyway.

Announcements go out in order, those made while one is in flight together in one message, so a
sweep's batch of transitions costs a message or two rather than a round trip each.

The subscription's health is the cache's trust (`on_trust`): confirmed → trusted (and emptied,
since anything published before was not heard); failed, or no answer to a heartbeat PING
within HEARTBEAT_SECONDS → not trusted until confirmed again. The subscriber's client never
reconnects behind our back (no retries), so a gap in what it heard cannot go unnoticed.

While this process's own subscription is down it still publishes (others may hear), without
waiting for answers that could not reach it. An announcement that could not be published at all
leaves a debt: once Redis answers again, a `flush` announcement empties every process's cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import uuid
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import msgspec

from peerview.events import AccessChanged, SessionChanged

logger = logging.getLogger(__name__)

# How long an announcer waits for every listening process to acknowledge.
ACK_WAIT_SECONDS = 0.5
# A silent subscription is PINGed after this long, and given up if the PING goes unanswered
# as long again.
HEARTBEAT_SECONDS = 1.0
# The longest wait between two attempts to subscribe again.
RETRY_MAX_SECONDS = 1.0
# Announcements made while one is being sent go out together, this many at most per message.
MAX_BATCH = 200


class Announcement(msgspec.Struct, frozen=True, kw_only=True):
    origin: str  # the announcing process
    nonce: int
    sessions: list[SessionChanged] = []
    access: list[AccessChanged] = []
    answer: bool = False  # the announcer waits for each process's acknowledgement
    flush: bool = False  # forget everything: the announcer could not announce something


@dataclass(slots=True)
class _Outgoing:
    session: SessionChanged | None
    access: AccessChanged | None
    done: asyncio.Future[None] | None  # set once acted on everywhere, for a waiting caller


class _Envelope(msgspec.Struct, frozen=True, kw_only=True):
    """What every announcement carries, whatever else it holds."""

    origin: str
    nonce: int
    answer: bool = False


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Announcement).decode
_decode_envelope = msgspec.json.Decoder(_Envelope).decode


def channel_of(socketio_channel: str) -> str:
    return f"{socketio_channel}:relay"


class _Waiting:
    """The acknowledgements one announcement has had, against the receivers Redis counted."""

    def __init__(self) -> None:
        self.expected: int | None = None
        self.got = 0
        self.done = asyncio.Event()

    def expect(self, receivers: int) -> None:
        self.expected = receivers
        self._check()

    def ack(self) -> None:
        self.got += 1
        self._check()

    def _check(self) -> None:
        if self.expected is not None and self.got >= self.expected:
            self.done.set()


class RedisBus:
    """One process's end of the announcements: publish, listen, acknowledge."""

    def __init__(
        self,
        *,
        url: str,
        socketio_channel: str,
        publisher: Any,
        on_news: Callable[[Announcement], None],
        on_trust: Callable[[bool], None],
    ) -> None:
        self.process_id = uuid.uuid4().hex
        self.channel = channel_of(socketio_channel)
        self.ack_channel = f"{self.channel}:ack:{self.process_id}"
        self.healthy = False
        self._url = url
        self._publisher = publisher
        self._on_news = on_news
        self._on_trust = on_trust
        self._nonces = itertools.count(1)
        self._waiting: dict[int, _Waiting] = {}
        self._owe_flush = False
        self._outbox: deque[_Outgoing] = deque()
        self._sender: asyncio.Task[None] | None = None
        self._listener: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifetime ----------------------------------------------------------------------------

    def start(self) -> None:
        """Listen, if not already (called on the running loop, at first use)."""
        if self._listener is None or self._listener.done():
            self._listener = asyncio.get_running_loop().create_task(
                self._listen(), name="peerview-realtime-bus"
            )

    async def close(self) -> None:
        running = (self._listener, self._sender, *self._tasks)
        tasks = [t for t in running if t is not None and not t.done()]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._listener = self._sender = None
        for item in self._outbox:
            if item.done is not None and not item.done.done():
                item.done.set_result(None)
        self._outbox.clear()
        self._set_healthy(False)

    # -- announcing --------------------------------------------------------------------------

    async def announce(
        self,
        *,
        session: SessionChanged | None = None,
        access: AccessChanged | None = None,
        wait: bool = True,
    ) -> None:
        """Tell every other process. With `wait`, return once each listening one has acted on
        it (or ACK_WAIT_SECONDS have passed); without, at once.

        Announcements go out in the order they were made, those made meanwhile together in one
        message: a sweep's hundreds of transitions cost a few messages, not one each.
        """
        self.start()
        loop = asyncio.get_running_loop()
        # While our subscription is down no answer could reach us, and Redis may be slow to
        # refuse: nobody waits then.
        done = loop.create_future() if wait and self.healthy else None
        self._outbox.append(_Outgoing(session=session, access=access, done=done))
        if self._sender is None or self._sender.done():
            self._sender = loop.create_task(self._send_outbox(), name="peerview-realtime-bus-out")
        if done is not None:
            await done

    async def _send_outbox(self) -> None:
        while self._outbox:
            batch = [self._outbox.popleft() for _ in range(min(MAX_BATCH, len(self._outbox)))]
            waiters = [item.done for item in batch if item.done is not None]
            try:
                await self._send(batch, answer=bool(waiters))
            finally:
                for waiter in waiters:
                    if not waiter.done():
                        waiter.set_result(None)

    async def _send(self, batch: list[_Outgoing], *, answer: bool) -> None:
        nonce = next(self._nonces)
        message = _encode(
            Announcement(
                origin=self.process_id,
                nonce=nonce,
                sessions=[item.session for item in batch if item.session is not None],
                access=[item.access for item in batch if item.access is not None],
                answer=answer,
            )
        )
        waiting = _Waiting() if answer and self.healthy else None
        if waiting is not None:
            self._waiting[nonce] = waiting
        try:
            try:
                receivers = await self._publisher.publish(self.channel, message)
            except Exception:
                self._owe("an announcement")
                return
            if waiting is None:
                return
            waiting.expect(int(receivers))
            try:
                await asyncio.wait_for(waiting.done.wait(), ACK_WAIT_SECONDS)
            except TimeoutError:
                logger.warning(
                    "realtime bus: %d of %d process(es) acknowledged within %.1f s",
                    waiting.got,
                    receivers,
                    ACK_WAIT_SECONDS,
                )
        finally:
            self._waiting.pop(nonce, None)

    def _owe(self, what: str) -> None:
        if not self._owe_flush:
            logger.warning("realtime bus: could not publish %s; every cache will be emptied", what)
        self._owe_flush = True

    async def _settle(self) -> None:
        """Pay the debt of an announcement that was lost: every process forgets everything."""
        if not self._owe_flush:
            return
        flush = Announcement(origin=self.process_id, nonce=next(self._nonces), flush=True)
        try:
            await self._publisher.publish(self.channel, _encode(flush))
        except Exception:
            return
        self._owe_flush = False
        logger.info("realtime bus: every process told to empty its relay cache")

    # -- listening ---------------------------------------------------------------------------

    async def _listen(self) -> None:
        from redis.asyncio import Redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        wait = 0.1
        while True:
            client = Redis.from_url(
                self._url,
                socket_connect_timeout=1,
                retry=Retry(NoBackoff(), 0),
                client_name=f"peerview-relay-bus-{self.process_id}",
            )
            pubsub = client.pubsub()
            try:
                # The shared channel last: once it is confirmed, answers can reach us too.
                await pubsub.subscribe(self.ack_channel, self.channel)
                pinged = False
                while True:
                    message = await pubsub.get_message(timeout=HEARTBEAT_SECONDS)
                    if message is None:
                        if pinged:
                            raise TimeoutError("no answer to PING")
                        await pubsub.ping()
                        pinged = True
                        await self._settle()
                        continue
                    pinged = False
                    wait = 0.1
                    self._receive(message)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if self.healthy:
                    logger.warning("realtime bus: subscription lost (%s); cache bypassed", exc)
                self._set_healthy(False)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()  # type: ignore[no-untyped-call]
                with contextlib.suppress(Exception):
                    await client.aclose()
            await asyncio.sleep(wait)
            wait = min(wait * 2, RETRY_MAX_SECONDS)

    def _receive(self, message: dict[str, Any]) -> None:
        kind = message.get("type")
        channel = _text(message.get("channel"))
        if kind == "subscribe" and channel == self.channel:
            # From here on every announcement reaches us; before, some may not have.
            if not self.healthy:
                logger.info("realtime bus: subscribed")
            self._set_healthy(True, always=True)
            self._spawn(self._settle())
            return
        if kind != "message":
            return
        data = message.get("data")
        if channel == self.ack_channel:
            nonce = _text(data)
            waiting = self._waiting.get(int(nonce)) if nonce and nonce.isdigit() else None
            if waiting is not None:
                waiting.ack()
            return
        if channel != self.channel or not isinstance(data, bytes | str):
            return
        try:
            news = _decode(data)
        except msgspec.ValidationError:
            partial = _unreadable(data)
            if partial is None:
                logger.warning("realtime bus: an announcement could not be read")
                return
            news = partial
            # One this release cannot read in full (a newer release's, during a rolling
            # upgrade: an event it does not know): taken as a flush, so nothing it may have
            # changed is trusted from the cache, and answered, so its announcer does not wait.
            logger.warning("realtime bus: an announcement could not be read in full: flushed")
        if news.origin == self.process_id:
            # Acted on before it was published; it only counts as our own answer.
            waiting = self._waiting.get(news.nonce)
            if waiting is not None:
                waiting.ack()
            return
        try:
            self._on_news(news)
        except Exception:
            logger.exception("realtime bus: acting on an announcement failed")
        if news.answer:
            self._spawn(self._acknowledge(news))

    async def _acknowledge(self, news: Announcement) -> None:
        with contextlib.suppress(Exception):
            await self._publisher.publish(f"{self.channel}:ack:{news.origin}", str(news.nonce))

    def _set_healthy(self, healthy: bool, *, always: bool = False) -> None:
        if healthy != self.healthy or always:
            self.healthy = healthy
            self._on_trust(healthy)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        return value.decode()
    return value if isinstance(value, str) else None


def _unreadable(data: bytes | str) -> Announcement | None:
    """An announcement whose content could not be read, as a flush from its announcer; None
    when not even its announcer can be read."""
    try:
        envelope = _decode_envelope(data)
    except msgspec.ValidationError:
        return None
    return Announcement(
        origin=envelope.origin, nonce=envelope.nonce, answer=envelope.answer, flush=True
    )
