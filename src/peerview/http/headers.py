"""The security headers of every answer (docs/api.md §1.8): the API's and Socket.IO's alike."""

from __future__ import annotations

from collections.abc import Iterable

Header = tuple[bytes, bytes]

SECURITY_HEADERS: tuple[Header, ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)
NO_STORE: Header = (b"cache-control", b"no-store")


def secured(headers: Iterable[Header], *, no_store: bool) -> list[Header]:
    """`headers` with every security header it lacks (and `Cache-Control: no-store` when
    `no_store` and it sets no `Cache-Control` of its own)."""
    result = list(headers)
    present = {name.lower() for name, _ in result}
    result.extend(h for h in SECURITY_HEADERS if h[0] not in present)
    if no_store and NO_STORE[0] not in present:
        result.append(NO_STORE)
    return result
