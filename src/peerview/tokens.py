"""HS256 access tokens carrying identity only: `sub`, `iat`, `exp`, `jti` (never the role)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache

import jwt

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti"]


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str
    jti: str
    issued_at: datetime
    expires_at: datetime
    not_before: datetime | None = None


class TokenError(Exception):
    pass


def issue(
    *, secret: str, subject: str, now: datetime, lifetime: timedelta
) -> tuple[str, TokenClaims]:
    claims = TokenClaims(
        subject=subject, jti=uuid.uuid4().hex, issued_at=now, expires_at=now + lifetime
    )
    payload = {
        "sub": subject,
        "jti": claims.jti,
        # Sub-second `iat` (RFC 7519 allows non-integer NumericDate), so a token issued
        # right after a password change is not mistaken for one issued before it.
        "iat": round(now.timestamp(), 6),
        "exp": int(claims.expires_at.timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM), claims


def decode(token: str, *, secret: str, now: datetime) -> TokenClaims:
    """Verify signature and claims against the injected clock; raise TokenError otherwise."""
    claims = _verified(token, secret)
    if claims.expires_at <= now:
        raise TokenError("expired")
    if claims.issued_at > now + timedelta(seconds=5):
        raise TokenError("issued in the future")
    if claims.not_before is not None and claims.not_before > now:
        raise TokenError("not yet valid")
    return claims


# A client sends the same token with every request: its signature is checked and its claims
# read once (a pure function of the token and the key), then remembered. Only verified tokens
# are kept; the times are judged at every request, against the clock.
@lru_cache(maxsize=4096)
def _verified(token: str, secret: str) -> TokenClaims:
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={
                "require": REQUIRED_CLAIMS,
                # Time claims are checked below against Peerview's clock, not the wall clock.
                "verify_exp": False,
                "verify_iat": False,
                "verify_nbf": False,
            },
        )
    except jwt.PyJWTError as exc:
        raise TokenError(str(exc)) from exc
    try:
        subject = payload["sub"]
        jti = payload["jti"]
        issued_at = datetime.fromtimestamp(float(payload["iat"]), UTC)
        expires_at = datetime.fromtimestamp(float(payload["exp"]), UTC)
        not_before = payload.get("nbf")
        not_before_at = datetime.fromtimestamp(float(not_before), UTC) if not_before else None
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise TokenError("malformed claims") from exc
    if not isinstance(subject, str) or not isinstance(jti, str) or not subject or not jti:
        raise TokenError("malformed identity")
    return TokenClaims(
        subject=subject,
        jti=jti,
        issued_at=issued_at,
        expires_at=expires_at,
        not_before=not_before_at,
    )
