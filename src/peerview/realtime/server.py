"""The Socket.IO server (docs/api.md §8): handshake auth, rooms, signaling, presence, pushes.

Rooms: every socket is in "user:<id>" (its user's pushes: `session`, `notification`);
a socket that joined a session is in "session:<id>" (presence) and in
"session:<id>:user:<user id>" (the signals addressed to that participant). With Redis the
rooms span every server process, so an emit reaches each socket once wherever it is.

A `signal` is judged on the relay cache (`peerview.realtime.relay_cache`): no statement per
message once a room and its sender's token are known. A committed `SessionChanged` or
`AccessChanged` drops what the cache holds about it here and, through `peerview.realtime.bus`,
in every other process; each process then pushes the `session` event to its own sockets only,
loading the views only for participants connected to it.

A socket lives no longer than its token (`peerview.realtime.revocation`): a committed
`AccessChanged` ends the sockets it ends in every process, a token's expiry ends its sockets,
and a token found no longer valid by any event ends its socket right after the answer. Each
is told why (`access_revoked`) and disconnected. Every event is answered, also when the
database is down (`SERVICE_UNAVAILABLE`).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import socketio
from pydantic import BaseModel, ValidationError

from peerview import tokens
from peerview.actor import Actor
from peerview.clock import Clock
from peerview.codepad import service as codepad_service
from peerview.codepad.document import Documents
from peerview.codepad.errors import UpdateTooLarge
from peerview.codepad.schemas import CodeAwarenessIn, CodeSyncIn, CodeUpdateIn
from peerview.config import Settings
from peerview.context import Ctx, authenticate
from peerview.db import Database, Unavailable
from peerview.errors import AppError
from peerview.events import AccessChanged, CodeLanguageChanged, SessionChanged
from peerview.interview_sessions import realtime_info
from peerview.interview_sessions import service as sessions_service
from peerview.interview_sessions.lifecycle import JOINABLE, SessionTimes, session_at, time_rules
from peerview.interview_sessions.schemas import SessionEvent
from peerview.metrics import CONNECTED_SOCKETS
from peerview.models.enums import SessionStatus
from peerview.notifications.schemas import NotificationRead
from peerview.practice.interviewer import Interviewer
from peerview.practice.schemas import PracticeMessageIn
from peerview.realtime import engine
from peerview.realtime.bus import Announcement, RedisBus
from peerview.realtime.presence import FallbackPresence, MemoryPresence, Presence, RedisPresence
from peerview.realtime.ratelimit import TokenBucket
from peerview.realtime.redis_manager import RedisManager
from peerview.realtime.relay_cache import RelayCache, Room
from peerview.realtime.revocation import Revoker
from peerview.realtime.schemas import JoinIn, SignalIn
from peerview.schemas import to_builtins
from peerview.services import Services
from peerview.tokens import TokenClaims
from peerview.users import service as users_service

logger = logging.getLogger(__name__)

Ack = dict[str, Any]
Handler = Callable[..., Awaitable[Ack]]
M = TypeVar("M", bound=BaseModel)


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def peer_room(session_id: str, user_id: str) -> str:
    return f"{realtime_info.room_of(session_id)}:user:{user_id}"


def refused(code: str) -> Ack:
    return {"ok": False, "code": code}


@dataclass
class SocketState:
    """What this process knows about one of its sockets."""

    actor: Actor  # as of the handshake; its token rechecked at every event
    bucket: TokenBucket
    code_bucket: TokenBucket  # `code_update`s, on top of `bucket` (docs/api.md §5.7)
    # session id → the other participant's user id, for each session this socket joined
    joined: dict[str, str] = field(default_factory=dict)

    @property
    def user_id(self) -> str:
        return self.actor.id

    @property
    def token(self) -> TokenClaims:
        return self.actor.token


class Realtime:
    def __init__(
        self,
        *,
        settings: Settings,
        clock: Clock,
        database: Database,
        redis: Any = None,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.database = database
        self.timer = timer
        self.rules = time_rules(settings)
        self.sockets: dict[str, SocketState] = {}
        # user id → this process's sockets of theirs
        self.local_users: dict[str, set[str]] = {}
        # Moves with every access change this process makes or hears (and every recheck): a
        # handshake that read the token before it moved reads it again.
        self._access_epoch = 0
        self._services: Services | None = None
        # The last `session` push of this process: each waits for the one before.
        self._last_push: asyncio.Task[None] | None = None
        manager: engine.Manager | None = None
        self.presence: Presence = MemoryPresence()
        # Alone, this process makes every change it must hear of; with Redis, the cache is
        # trusted only while the bus hears the others.
        self.cache = RelayCache(timer=timer, trusted=not settings.redis_url)
        self.bus: RedisBus | None = None
        # The code pads' documents as this process last stored or read them.
        self.documents = Documents()
        if settings.redis_url:
            manager = RedisManager(settings.redis_url, channel=settings.socketio_channel)
            self.presence = FallbackPresence(RedisPresence(redis))
            self.bus = RedisBus(
                url=settings.redis_url,
                socketio_channel=settings.socketio_channel,
                publisher=redis,
                on_news=self._heard,
                on_trust=self._trust,
            )
        self.sio = engine.Server(
            async_mode="asgi",
            client_manager=manager,
            # Browsers' origins are checked at the handshake against CORS_ORIGINS, never a
            # wildcard; unset, only same-origin pages may connect (Engine.IO's default).
            cors_allowed_origins=settings.cors_origin_list or None,
            max_http_buffer_size=settings.socket_max_message_bytes,
            # One socket's messages are handled in the order they came: an answer never
            # overtakes its offer, and a flooding socket only slows itself down.
            async_handlers=False,
            logger=False,
            engineio_logger=False,
        )
        self.revoker = Revoker(
            sio=self.sio,
            database=database,
            clock=clock,
            sockets=self.sockets,
            local_users=self.local_users,
        )
        self.sio.on("connect", self.connect)
        self.sio.on("disconnect", self.disconnect)
        self.sio.on("join", _answering("join", self.join))
        self.sio.on("leave", _answering("leave", self.leave))
        self.sio.on("signal", _answering("signal", self.signal))
        self.sio.on("code_sync", _answering("code_sync", self.code_sync))
        self.sio.on("code_update", _answering("code_update", self.code_update))
        self.sio.on("code_awareness", _answering("code_awareness", self.code_awareness))
        self.sio.on("practice_message", _answering("practice_message", self.practice_message))
        # The AI interviewer of practice sessions (set by the application once both exist).
        self.practice: Interviewer | None = None

    def serve(self, services: Services) -> None:
        """Take the application's services: a join runs the same service code as REST."""
        self._services = services

    @property
    def services(self) -> Services:
        assert self._services is not None, "Realtime.serve() was not called"
        return self._services

    async def close(self) -> None:
        if self.bus is not None:
            await self.bus.close()
        await self.revoker.close()
        if isinstance(self.presence, FallbackPresence):
            await self.presence.close()

    # -- handshake -------------------------------------------------------------------------

    async def connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        if self.bus is not None:
            self.bus.start()
        token = auth.get("token") if isinstance(auth, dict) else None
        if not isinstance(token, str) or not token:
            raise socketio.exceptions.ConnectionRefusedError(
                "Authentication required", {"code": "NOT_AUTHENTICATED"}
            )
        epoch = self._access_epoch
        try:
            actor = await self._authenticate(token)
        except Exception as exc:
            logger.exception("socket authentication failed")
            raise socketio.exceptions.ConnectionRefusedError(
                "The service is temporarily unavailable", {"code": "SERVICE_UNAVAILABLE"}
            ) from exc
        if actor is None:
            raise socketio.exceptions.ConnectionRefusedError(
                "The access token is invalid, expired or revoked", {"code": "INVALID_TOKEN"}
            )
        self.sockets[sid] = SocketState(
            actor=actor,
            bucket=TokenBucket(
                rate=self.settings.socket_rate_per_second,
                burst=self.settings.socket_burst,
                timer=self.timer,
            ),
            code_bucket=TokenBucket(
                rate=self.settings.code_updates_per_second,
                burst=max(1, int(2 * self.settings.code_updates_per_second)),
                timer=self.timer,
            ),
        )
        self.local_users.setdefault(actor.id, set()).add(sid)
        self.revoker.expiry.watch(sid, actor.token.expires_at)
        await self.sio.enter_room(sid, user_room(actor.id))
        CONNECTED_SOCKETS.inc()
        if self._access_epoch != epoch:
            # A change may have ended this token while its standing was being read, before
            # this socket could be found by it: judged again, once connected.
            self.revoker.spawn(self.revoker.recheck([sid]))

    async def _authenticate(self, token: str) -> Actor | None:
        """The same rules as REST: a valid signature and claims, then the database's word."""
        try:
            claims = tokens.decode(
                token, secret=self.settings.signing_secret(), now=self.clock.now()
            )
        except tokens.TokenError:
            return None
        since = self.cache.mark()
        async with self.database.acquire() as db:
            actor = await authenticate(db, claims)
        if actor is not None:
            self.cache.put_token(actor.id, claims.jti, True, since=since)
        return actor

    async def disconnect(self, sid: str, reason: Any = None) -> None:
        """Presence only: a dropped connection never changes a session (docs/api.md §5)."""
        state = self.sockets.pop(sid, None)
        if state is None:
            return
        CONNECTED_SOCKETS.dec()
        self.revoker.expiry.forget(sid)
        mine = self.local_users.get(state.user_id)
        if mine is not None:
            mine.discard(sid)
            if not mine:
                del self.local_users[state.user_id]
        for session_id in list(state.joined):
            await self._leave(sid, state, session_id)

    # -- client events ---------------------------------------------------------------------

    async def _admit(self, sid: str) -> SocketState | Ack:
        state = self.sockets.get(sid)
        if state is None:
            return refused("NOT_AUTHENTICATED")
        if not state.bucket.take():
            # Refusing reads nothing and waits on nothing: without a turn given to the others,
            # a flood already queued on one connection would be refused in one stretch, with
            # every other request of this process waiting behind it.
            await asyncio.sleep(0)
            return refused("TOO_MANY_REQUESTS")
        # The expiry watch ends the socket within a second of its token's `exp`; an event
        # that comes in between is refused, and ends it at once.
        if state.actor.token.expires_at <= self.clock.now():
            return self.revoker.refuse(sid, "expired")
        return state

    async def join(self, sid: str, data: Any = None, *_: Any) -> Ack:
        state = await self._admit(sid)
        if not isinstance(state, SocketState):
            return state
        body = _parse(JoinIn, data)
        if body is None:
            return refused("VALIDATION_ERROR")
        now = self.clock.now()
        token = state.actor.token
        since = self.cache.mark()
        try:
            async with self.database.transaction() as db:
                # Re-checked here: a token revoked since the handshake joins nothing.
                actor = await authenticate(db, token)
                if actor is None:
                    self.cache.put_token(state.user_id, token.jti, False, since=since)
                    return self.revoker.refuse(sid, "revoked")
                ctx = Ctx(services=self.services, db=db, actor=actor, now=now)
                session = await sessions_service.join(ctx, session_id=body.session_id)
        except AppError as exc:
            return refused(exc.code)
        if self.sockets.get(sid) is not state:
            # Ended meanwhile (its token revoked as the join read it): it enters nothing.
            return refused("INVALID_TOKEN")
        # What the join read is what the relay needs: its first signal reads nothing. A
        # joinable session's status at `now` is its stored one, and it has not ended.
        self.cache.put_token(actor.id, token.jti, True, since=since)
        relay_room = Room(
            interviewer_id=session.interviewer.id if session.interviewer else None,
            interviewee_id=session.interviewee.id,
            times=SessionTimes(
                status=session.status,
                scheduled_at=session.scheduled_at,
                hard_end_at=session.hard_end_at,
                ended_at=session.ended_at,
                end_reason=session.end_reason,
            ),
        )
        self.cache.put_room(session.id, relay_room, since=since)
        # The other participant, whose sockets a signal reaches; a practice session has none
        # ("": a peer room nobody is in).
        if session.interviewer is None:
            other = ""
        elif actor.id == session.interviewee.id:
            other = session.interviewer.id
        else:
            other = session.interviewee.id
        state.joined[session.id] = other
        room = realtime_info.room_of(session.id)
        await self.sio.enter_room(sid, room)
        await self.sio.enter_room(sid, peer_room(session.id, actor.id))
        await self.presence.add(session.id, sid, actor.id)
        peers = sorted(await self.presence.users(session.id) - {actor.id})
        await self.sio.emit(
            "presence",
            {"session_id": session.id, "user_id": actor.id, "state": "joined"},
            room=room,
            skip_sid=sid,
        )
        servers = realtime_info.ice_servers(settings=self.settings, user_id=actor.id, now=now)
        return {
            "ok": True,
            "peers": peers,
            "session": to_builtins(session),
            "ice_servers": to_builtins(servers),
        }

    async def leave(self, sid: str, data: Any = None, *_: Any) -> Ack:
        state = await self._admit(sid)
        if not isinstance(state, SocketState):
            return state
        body = _parse(JoinIn, data)
        if body is None:
            return refused("VALIDATION_ERROR")
        # Re-checked as on join: a socket whose token no longer holds acts on no room.
        if not await self._token_holds(state):
            return self.revoker.refuse(sid, "revoked")
        if body.session_id in state.joined:
            await self._leave(sid, state, body.session_id)
        return {"ok": True}

    async def _leave(self, sid: str, state: SocketState, session_id: str) -> None:
        state.joined.pop(session_id, None)
        room = realtime_info.room_of(session_id)
        await self.sio.leave_room(sid, room)
        await self.sio.leave_room(sid, peer_room(session_id, state.user_id))
        await self.presence.remove(session_id, sid)
        # Another tab of the same user still in the room: to the peer, they have not left.
        if state.user_id not in await self.presence.users(session_id):
            await self.sio.emit(
                "presence",
                {"session_id": session_id, "user_id": state.user_id, "state": "left"},
                room=room,
            )

    async def signal(self, sid: str, data: Any = None, *_: Any) -> Ack:
        state = await self._admit(sid)
        if not isinstance(state, SocketState):
            return state
        body = _parse(SignalIn, data)
        if body is None:
            return refused("VALIDATION_ERROR")
        status = await self._admit_to_session(sid, state, body.session_id)
        if not isinstance(status, SessionStatus):
            return status
        other = state.joined.get(body.session_id)
        if other is None:  # left while the session was judged
            return refused("NOT_JOINED")
        await self.sio.emit(
            "signal",
            {
                "session_id": body.session_id,
                "from": state.user_id,
                "type": body.type,
                "data": body.data,
            },
            room=peer_room(body.session_id, other),
        )
        return {"ok": True}

    # -- practice sessions (docs/api.md §13.3) -----------------------------------------------

    async def practice_message(self, sid: str, data: Any = None, *_: Any) -> Ack:
        state = await self._admit(sid)
        if not isinstance(state, SocketState):
            return state
        body = _parse(PracticeMessageIn, data)
        if body is None:
            return refused("VALIDATION_ERROR")
        status = await self._admit_to_session(sid, state, body.session_id)
        if not isinstance(status, SessionStatus):
            return status
        if status is not SessionStatus.LIVE:
            return refused("INVALID_SESSION_STATE")
        assert self.practice is not None, "no practice interviewer"
        try:
            message = await self.practice.take_message(
                actor=state.actor, session_id=body.session_id, text=body.text, hint=body.hint
            )
        except AppError as exc:
            return refused(exc.code)
        return {"ok": True, "message": to_builtins(message)}

    async def push_to_user(self, event: str, payload: dict[str, Any], user_id: str) -> None:
        """`event` to every socket of `user_id`, in every process."""
        await self.sio.emit(event, payload, room=user_room(user_id))

    # -- the code pad (docs/api.md §5.7) -----------------------------------------------------

    async def _admit_to_session(
        self, sid: str, state: SocketState, session_id: str
    ) -> SessionStatus | Ack:
        """The session's status for a `signal` or code pad event of a socket that joined it,
        or the refusal: the token, then the session at this instant."""
        if session_id not in state.joined:
            return refused("NOT_JOINED")
        status = await self._relay_status(state, session_id)
        if status == "INVALID_TOKEN":
            return self.revoker.refuse(sid, "revoked")
        if not isinstance(status, SessionStatus):
            return refused(status)
        if self.sockets.get(sid) is not state:
            return refused("INVALID_TOKEN")  # ended while the relay read the database
        return status

    async def code_sync(self, sid: str, data: Any = None, *_: Any) -> Ack:
        state = await self._admit(sid)
        if not isinstance(state, SocketState):
            return state
        body = _parse(CodeSyncIn, data)
        if body is None:
            return refused("VALIDATION_ERROR")
        state_vector = _base64(body.state_vector)
        if state_vector is None:
            return refused("VALIDATION_ERROR")
        status = await self._admit_to_session(sid, state, body.session_id)
        if not isinstance(status, SessionStatus):
            return status
        synced = await codepad_service.load(
            database=self.database, documents=self.documents, session_id=body.session_id
        )
        try:
            update = synced.working.diff(state_vector)
        except ValueError:
            return refused("VALIDATION_ERROR")  # not a state vector
        return {
            "ok": True,
            "update": _text(update),
            "state_vector": _text(synced.working.state_vector()),
            "language": synced.language.value,
            "editable": status is SessionStatus.LIVE,
        }

    async def code_update(self, sid: str, data: Any = None, *_: Any) -> Ack:
        state = await self._admit(sid)
        if not isinstance(state, SocketState):
            return state
        if not state.code_bucket.take():
            await asyncio.sleep(0)
            return refused("TOO_MANY_REQUESTS")
        body = _parse(CodeUpdateIn, data)
        if body is None:
            return refused("VALIDATION_ERROR")
        limit = self.settings.code_max_update_bytes
        if len(body.update) > _encoded_length(limit):
            return refused(UpdateTooLarge.code)
        update = _base64(body.update)
        if update is None:
            return refused("MALFORMED_UPDATE")
        if len(update) > limit:
            return refused(UpdateTooLarge.code)
        status = await self._admit_to_session(sid, state, body.session_id)
        if not isinstance(status, SessionStatus):
            return status
        if status is not SessionStatus.LIVE:
            return refused("INVALID_SESSION_STATE")
        try:
            async with self.database.transaction() as db:
                # Re-read with the row held: the cache judged the session a moment ago.
                version = await codepad_service.append(
                    db=db,
                    documents=self.documents,
                    settings=self.settings,
                    actor=state.actor,
                    session_id=body.session_id,
                    update=update,
                    now=self.clock.now(),
                    rules=self.rules,
                )
        except AppError as exc:
            return refused(exc.code)
        # Stored: relayed to the room's other sockets (every process), then acknowledged.
        if version is not None:
            await self.sio.emit(
                "code_update",
                {"session_id": body.session_id, "from": state.user_id, "update": body.update},
                room=realtime_info.room_of(body.session_id),
                skip_sid=sid,
            )
        return {"ok": True}

    async def code_awareness(self, sid: str, data: Any = None, *_: Any) -> Ack:
        state = await self._admit(sid)
        if not isinstance(state, SocketState):
            return state
        body = _parse(CodeAwarenessIn, data)
        if body is None:
            return refused("VALIDATION_ERROR")
        limit = self.settings.code_max_awareness_bytes
        decoded = _base64(body.update) if len(body.update) <= _encoded_length(limit) else None
        if decoded is None or len(decoded) > limit:
            return refused("VALIDATION_ERROR")
        status = await self._admit_to_session(sid, state, body.session_id)
        if not isinstance(status, SessionStatus):
            return status
        await self.sio.emit(
            "code_awareness",
            {"session_id": body.session_id, "from": state.user_id, "update": body.update},
            room=realtime_info.room_of(body.session_id),
            skip_sid=sid,
        )
        return {"ok": True}

    async def push_code_language(self, event: CodeLanguageChanged) -> None:
        """`code_language` to every socket of both participants (through Redis, every
        process's)."""
        payload = {"session_id": event.session_id, "language": event.language}
        for user_id in (event.interviewer_id, event.interviewee_id):
            if user_id is not None:
                await self.sio.emit("code_language", payload, room=user_room(user_id))

    async def _token_holds(self, state: SocketState) -> bool:
        """Whether the socket's token is still good: the cache's word, else the database's."""
        token = state.actor.token
        valid = self.cache.token_valid(state.user_id, token.jti)
        if valid is None:
            since = self.cache.mark()
            async with self.database.transaction(write=False) as db:
                valid = await authenticate(db, token) is not None
            self.cache.put_token(state.user_id, token.jti, valid, since=since)
        return valid

    async def _relay_status(self, state: SocketState, session_id: str) -> str | SessionStatus:
        """Why this socket may not relay in this session now, or the session's status.

        Judged at every message, as on join: the sender's token (a revoked token or a
        deactivated account relays nothing more, even in a session joined before), then the
        session at this instant (one that ended, by a REST call in any process or by time,
        relays nothing more). Both come from the cache; what it lacks is read, and kept.
        """
        token = state.actor.token
        valid = self.cache.token_valid(state.user_id, token.jti)
        room = self.cache.room(session_id)
        if valid is None or (valid and room is None):
            since = self.cache.mark()
            async with self.database.transaction(write=False) as db:
                if valid is None:
                    valid = await authenticate(db, token) is not None
                    self.cache.put_token(state.user_id, token.jti, valid, since=since)
                if valid and room is None:
                    try:
                        row = await sessions_service.load_visible(
                            db=db, actor=state.actor, session_id=session_id
                        )
                    except AppError as exc:
                        return exc.code
                    room = Room(
                        interviewer_id=row.interviewer_id,
                        interviewee_id=row.interviewee_id,
                        times=sessions_service.times_of(row),
                    )
                    self.cache.put_room(session_id, room, since=since)
        if not valid:
            return "INVALID_TOKEN"
        assert room is not None
        if not room.has(state.user_id):
            return "SESSION_NOT_FOUND"
        status = session_at(room.times, self.clock.now(), self.rules).status
        if status not in JOINABLE:
            return "INVALID_SESSION_STATE"
        return status

    # -- after commit: invalidation and pushes ---------------------------------------------

    def _session_moved(self, event: SessionChanged) -> None:
        """Forget what this process kept of a session that changed: its cached state, and
        once it is over, its code pad's working copy (no edit can come any more)."""
        self.cache.session_changed(event.session_id)
        if event.event in ("ended", "cancelled"):
            self.documents.forget(event.session_id)

    async def after_commit(self, event: Any) -> None:
        """A committed change: what the relay cached about it is dropped here and in every
        other process (waiting for them), then this process's sockets get their push."""
        if isinstance(event, SessionChanged):
            self._session_moved(event)
            if self.bus is not None:
                # Only an action's lifecycle move makes what other processes cached wrong, so
                # only it is waited on: a sweeper's transition (no actor) persists what every
                # process already reads from the cached times, and a question list is not in
                # the cache at all (dropping the entry above is only for uniformity's sake).
                stale_elsewhere = event.actor_id is not None and event.event != "questions"
                await self.bus.announce(session=event, wait=stale_elsewhere)
            push = self._push_in_order(event)
            if push is not None:
                await push
        elif isinstance(event, CodeLanguageChanged):
            await self.push_code_language(event)
        elif isinstance(event, AccessChanged):
            self.cache.access_changed(event.user_id)
            self._access_epoch += 1
            await self.revoker.end_sockets(event)
            if self.bus is not None:
                await self.bus.announce(access=event)

    def _heard(self, news: Announcement) -> None:
        """Another process's change (called by the bus before it acknowledges)."""
        if news.flush:
            # An announcement was lost: the cache forgets, and no socket whose token the
            # lost one may have ended is kept on trust.
            self.cache.clear()
            self._access_epoch += 1
            self.revoker.spawn(self.revoker.recheck())
        for access in news.access:
            self.cache.access_changed(access.user_id)
            self._access_epoch += 1
            if access.user_id in self.local_users:
                self.revoker.spawn(self.revoker.end_sockets(access))
        for session in news.sessions:
            self._session_moved(session)
            self._push_in_order(session)

    def _push_in_order(self, event: SessionChanged) -> asyncio.Task[None] | None:
        """The push of `event` to this process's sockets, after the pushes before it; None
        when no participant has a socket here (nothing is loaded then)."""
        if not self._connected_participants(event):
            return None
        task = asyncio.get_running_loop().create_task(self._push_after(self._last_push, event))
        self._last_push = task
        return task

    async def _push_after(self, before: asyncio.Task[None] | None, event: SessionChanged) -> None:
        if before is not None and not before.done():
            await asyncio.wait([before])
        try:
            await self.push_session(event)
        except Exception:
            logger.exception("session push failed")

    def _connected_participants(self, event: SessionChanged) -> list[str]:
        return [
            user_id
            for user_id in (event.interviewer_id, event.interviewee_id)
            if user_id in self.local_users
        ]

    async def push_session(self, event: SessionChanged) -> None:
        """`session` {event, session} to each participant connected to this process, as that
        participant sees it (every other process does the same for its own sockets)."""
        users = self._connected_participants(event)
        if not users:
            return
        now = self.clock.now()
        views: list[tuple[str, SessionEvent]] = []
        async with self.database.transaction(write=False) as db:
            for user_id in users:
                viewer = await users_service.viewer(db=db, user_id=user_id, now=now)
                if viewer is None:
                    continue
                session = await sessions_service.view(
                    db=db, actor=viewer, session_id=event.session_id, now=now, rules=self.rules
                )
                views.append((user_id, SessionEvent(event=event.event, session=session)))
        for user_id, payload in views:
            await self.sio.emit(
                "session", to_builtins(payload), room=user_room(user_id), ignore_queue=True
            )

    async def push_notification(self, user_id: str, notification: NotificationRead) -> None:
        await self.sio.emit("notification", to_builtins(notification), room=user_room(user_id))

    # -- sockets follow the account --------------------------------------------------------

    def _trust(self, trusted: bool) -> None:
        """The bus's subscription was confirmed (again) or lost. Announcements made while it
        was not confirmed were never heard here: once it is, every socket is checked."""
        self.cache.trust(trusted)
        self._access_epoch += 1
        if trusted and self.sockets:
            self.revoker.spawn(self.revoker.recheck())


def _answering(event: str, handler: Handler) -> Handler:
    """`handler`, answering every event: a database that cannot be asked is
    `SERVICE_UNAVAILABLE`, anything unexpected `INTERNAL_ERROR` (logged), never no answer."""

    async def answer(sid: str, *args: Any) -> Ack:
        try:
            return await handler(sid, *args)
        except Unavailable as exc:
            logger.warning("socket event %s: the database is unavailable (%s)", event, exc)
            return refused("SERVICE_UNAVAILABLE")
        except Exception:
            logger.exception("socket event %s failed", event)
            return refused("INTERNAL_ERROR")

    return answer


def _base64(text: str) -> bytes | None:
    """Standard base64 (with padding) decoded, or None."""
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _text(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _encoded_length(size: int) -> int:
    """The length of `size` bytes in base64."""
    return 4 * ((size + 2) // 3)


def _parse(model: type[M], data: Any) -> M | None:
    if not isinstance(data, dict):
        return None
    try:
        return model.model_validate(data)
    except ValidationError:
        return None
