"""The web app (docs/api.md §12): its page at `/` and its assets under `/assets`, same origin.

Everything the app needs is in `static/`: plain ES modules and CSS, no build step, and the
standard Socket.IO client vendored (`assets/vendor/`, checked against the version the tests
pin). Nothing is fetched from elsewhere at run time, so the app works on a network with no
internet. Its answers carry a strict Content-Security-Policy: scripts, styles and
connections from this origin only, no inline script or style.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Message, Receive, Scope, Send

STATIC = Path(__file__).parent / "static"
ASSETS = STATIC / "assets"
INDEX = STATIC / "index.html"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob: mediastream:",
        "font-src 'self'",
        # Same-origin fetches and the Socket.IO connection (ws: and wss: of this host).
        "connect-src 'self'",
        "manifest-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
    )
).encode()
# The page and its assets are revalidated on every load (ETag, Last-Modified), so a new
# release is picked up at once and an unchanged asset costs a 304.
WEB_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY),
    (b"cache-control", b"no-cache"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"permissions-policy", b"camera=(self), microphone=(self), geolocation=()"),
)


class _WebAssets:
    """The assets, answered by Starlette's StaticFiles with the web app's headers."""

    def __init__(self) -> None:
        self.files = StaticFiles(directory=ASSETS)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] < 400:
                message["headers"] = [*message.get("headers", ()), *WEB_HEADERS]
            await send(message)

        await self.files(scope, receive, with_headers)


def index(request: Request) -> Response:
    """The app's one page (its routes live after the `#`); 304 when the browser has it."""
    page = _page()
    if request.headers.get("if-none-match") == page.etag:
        return Response(status_code=304, headers=page.headers)
    return Response(page.body, media_type="text/html; charset=utf-8", headers=page.headers)


@dataclass(frozen=True)
class _Page:
    body: bytes
    etag: str
    headers: dict[str, str]


@functools.cache
def _page() -> _Page:
    body = INDEX.read_bytes()
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    headers = {name.decode(): value.decode() for name, value in WEB_HEADERS}
    return _Page(body=body, etag=etag, headers={**headers, "etag": etag})


def install(app: FastAPI) -> None:
    """Serve the web app at `/` and its assets at `/assets`."""
    app.add_api_route("/", index, methods=["GET", "HEAD"], include_in_schema=False)
    app.mount("/assets", _WebAssets(), name="assets")
