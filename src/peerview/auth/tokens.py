"""HS256 access tokens carrying identity only: `sub`, `iat`, `exp`, `jti` (never the role)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt

ALGORITHM = "HS256"
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti"]


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: str
    jti: str
    issued_at: datetime
    expires_at: datetime


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
    if expires_at <= now:
        raise TokenError("expired")
    if issued_at > now + timedelta(seconds=5):
        raise TokenError("issued in the future")
    if not_before_at is not None and not_before_at > now:
        raise TokenError("not yet valid")
    return TokenClaims(subject=subject, jti=jti, issued_at=issued_at, expires_at=expires_at)
