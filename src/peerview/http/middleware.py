"""The one ASGI layer in front of the application: the request wrapper.

Per request it does only what every request needs: the request id (taken from the client
when well formed, else made), the client's address (behind a trusted proxy, the one its
`X-Forwarded-For` names: `peerview.proxies`), the body limit, the end of the request's
transaction (committed just before a successful answer starts, rolled back otherwise; see
`peerview.context`), the security headers and `Cache-Control` of the answer, one access-log
line (when INFO is on) and the HTTP metrics. It wraps `send` and `receive`; it never reads a
body itself.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from peerview.context import Unit, current_unit, finish
from peerview.db import Unavailable
from peerview.errors import (
    REQUEST_ID_HEADER,
    PayloadTooLarge,
    ServiceUnavailable,
    internal_error,
    problem,
    render,
)
from peerview.http.headers import NO_STORE, SECURITY_HEADERS
from peerview.logging import RequestInfo, current
from peerview.metrics import HTTP_LATENCY, HTTP_REQUESTS
from peerview.proxies import TrustedProxies

logger = logging.getLogger(__name__)
access_logger = logging.getLogger("peerview.access")

MAX_BODY_BYTES = 1024 * 1024
UNMATCHED = "unmatched"
_REQUEST_ID = REQUEST_ID_HEADER.lower().encode()
_FORWARDED_FOR = b"x-forwarded-for"
_VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
# Anything else would let one client mint unbounded label values.
_KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})
_UNSTORED = "The change could not be stored; nothing of it was kept. Try again shortly."


def route_template(scope: Scope) -> str:
    """The matched route's path template (never the raw path, which may carry ids)."""
    template = getattr(scope.get("route"), "path_format", None)
    return template if isinstance(template, str) and template else UNMATCHED


class HttpLayer:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int = MAX_BODY_BYTES,
        trusted_proxies: TrustedProxies | None = None,
    ) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        # None when no proxy is trusted: X-Forwarded-For is then not even looked at.
        self.proxies = trusted_proxies if trusted_proxies else None
        # Metric children by label values: labels() looks them up under a lock each call.
        self._counted: dict[tuple[str, str, str], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id: str | None = None
        declared = -1
        proxies = self.proxies
        forwarded: list[str] = []
        for name, value in scope["headers"]:
            if name == _REQUEST_ID:
                candidate = value.decode("latin-1")
                if _VALID_REQUEST_ID.fullmatch(candidate):
                    request_id = candidate
            elif name == b"content-length":
                declared = int(value) if value.isdigit() else 0
            elif name == _FORWARDED_FOR and proxies is not None:
                forwarded.append(value.decode("latin-1"))
        peer = scope.get("client")
        client: str | None = peer[0] if peer else None
        if client is not None and proxies is not None:
            resolved = proxies.client(client, forwarded)
            if resolved != client:
                client = resolved
                # Everything after this layer (the login limit, request.client) sees the
                # client, not the proxy; the port is the proxy's, so it is not kept.
                scope = {**scope, "client": (client, 0)}
        info = RequestInfo(request_id=request_id or uuid.uuid4().hex, client=client)
        token = current.set(info)
        unit = Unit()
        unit_token = current_unit.set(unit)
        is_api = scope["path"].startswith("/api")
        status = 500
        response_started = False
        replaced = False
        id_header = (_REQUEST_ID, info.request_id.encode())

        async def send_with_headers(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                headers = list(message.get("headers") or ())
                present = {name.lower() for name, _ in headers}
                if _REQUEST_ID not in present:
                    headers.append(id_header)
                headers.extend(h for h in SECURITY_HEADERS if h[0] not in present)
                if is_api and b"cache-control" not in present:
                    headers.append(NO_STORE)
                message["headers"] = headers
            await send(message)

        async def send_after_finishing(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the body of an answer that was replaced below
            if message["type"] == "http.response.start" and unit.db is not None:
                try:
                    await finish(unit, commit=message["status"] < 400)
                except Exception as exc:
                    # The answer is ready, but what it reports could not be stored: it must
                    # not leave. What did is said instead.
                    replaced = True
                    logger.warning("commit failed: %r", exc)
                    failure = (
                        render(ServiceUnavailable(_UNSTORED, headers={"Retry-After": "1"}))
                        if isinstance(exc, Unavailable)
                        else internal_error()
                    )
                    await failure(scope, _disconnected, send_with_headers)
                    return
            await send_with_headers(message)

        try:
            if declared > self.max_body_bytes:
                response = render(PayloadTooLarge())
                response.headers["connection"] = "close"
                await response(scope, _disconnected, send_with_headers)
                return
            if scope["method"] not in _BODYLESS and declared < 0:
                receive = self._limited(receive)
            await self.app(scope, receive, send_after_finishing)
        except Exception:
            # Starlette renders an unhandled error's 500 outside this layer; answer here
            # instead, so that 500 has the headers too. The error still propagates, to be
            # logged by the registered handler. The request id stays set for it.
            if not response_started:
                await internal_error()(scope, receive, send_after_finishing)
            raise
        finally:
            if unit.db is not None:  # no answer started: nothing of it is kept
                await finish(unit, commit=False)
            current_unit.reset(unit_token)
            self._record(scope, info, status, started)
        current.reset(token)

    def _limited(self, receive: Receive) -> Receive:
        """A chunked body is counted as it streams: past the limit, 413."""
        received = 0
        limit = self.max_body_bytes

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # An HTTPException, because FastAPI turns anything else raised while it
                    # reads the body into "400 There was an error parsing the body".
                    raise HTTPException(413, PayloadTooLarge.title)
            return message

        return limited_receive

    def _record(self, scope: Scope, info: RequestInfo, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        method = scope["method"] if scope["method"] in _KNOWN_METHODS else "OTHER"
        route = route_template(scope)
        key = (method, route, str(status))
        counter = self._counted.get(key)
        if counter is None:
            counter = self._counted[key] = HTTP_REQUESTS.labels(*key)
        counter.inc()
        timer = self._timed.get(key[:2])
        if timer is None:
            timer = self._timed[key[:2]] = HTTP_LATENCY.labels(method, route)
        timer.observe(elapsed)
        if access_logger.isEnabledFor(logging.INFO):
            # Only these fields: never the query string, headers or body, which may hold
            # tokens, passwords or e-mail addresses.
            access_logger.info(
                "%s %s %d",
                method,
                route,
                status,
                extra={
                    "method": method,
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 3),
                    "request_id": info.request_id,
                    "user_id": info.user_id,
                    "client": info.client,
                },
            )


async def _disconnected() -> Message:
    return {"type": "http.disconnect"}


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORS, except that a refused preflight is a problem document like any error."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        refused = bytes(response.body).decode(errors="replace").removeprefix("Disallowed CORS ")
        return problem(
            400,
            "CORS_PREFLIGHT_REFUSED",
            "Cross-origin request refused",
            f"This origin may not make that request ({refused}).",
        )
