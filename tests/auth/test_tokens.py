"""Access tokens: every forged, stale or revoked token is refused with 401 (docs/api.md §1, §3)."""

from __future__ import annotations

import base64
import hmac
import json
import uuid
from typing import Any

import httpx
import jwt
import pytest

from peerview.clock import FakeClock
from peerview.models.enums import Role
from tests.factories import Factory
from tests.factories import TestUser as AppUser
from tests.platform.apps import assert_problem, bearer
from tests.support.environment import TEST_SECRET

ME = "/api/auth/me"


def claims_for(user: AppUser, clock: FakeClock, **overrides: Any) -> dict[str, Any]:
    now = clock.now().timestamp()
    claims: dict[str, Any] = {
        "sub": user.id,
        "jti": uuid.uuid4().hex,
        "iat": int(now),
        "exp": int(now) + 600,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def forge(claims: dict[str, Any], *, key: str = TEST_SECRET, alg: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=alg)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_signed(alg: str, claims: dict[str, Any], digest: str | None = "sha256") -> str:
    """A token built byte by byte with the test secret, whatever its header claims.

    PyJWT will not sign `none` or label an HMAC as RS256, and warns about the test
    secret's length for HS384/HS512; an attacker is bound by none of that.
    """
    header = {"alg": alg, "typ": "JWT"}
    signing_input = f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(claims).encode())}"
    signature = b""
    if digest is not None:
        signature = hmac.new(TEST_SECRET.encode(), signing_input.encode(), digest).digest()
    return f"{signing_input}.{_b64(signature)}"


async def me_status(client: httpx.AsyncClient, token: str) -> int:
    return (await client.get(ME, headers=bearer(token))).status_code


async def assert_refused(client: httpx.AsyncClient, token: str) -> None:
    response = await client.get(ME, headers=bearer(token))
    assert_problem(response, 401, "INVALID_TOKEN")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_a_well_formed_forged_token_is_accepted(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock
) -> None:
    # The control for every forgery below: only the one defect each introduces is refused.
    user = await factory.user()
    response = await client.get(ME, headers=bearer(forge(claims_for(user, clock))))
    assert response.status_code == 200
    assert response.json()["id"] == user.id


async def test_missing_authorization_is_401_not_authenticated(client: httpx.AsyncClient) -> None:
    response = await client.get(ME)
    assert_problem(response, 401, "NOT_AUTHENTICATED")
    assert response.headers["www-authenticate"] == "Bearer"


async def test_garbage_token_is_401(client: httpx.AsyncClient) -> None:
    await assert_refused(client, "not-a-jwt")


async def test_alg_none_token_is_401(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    token = hand_signed("none", claims_for(user, clock), digest=None)
    await assert_refused(client, token)


async def test_token_signed_with_another_key_is_401(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    token = forge(claims_for(user, clock), key="another-secret-0123456789abcdef0123456789")
    await assert_refused(client, token)


@pytest.mark.parametrize("claim", ["exp", "jti", "iat", "sub"])
async def test_token_missing_a_required_claim_is_401(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock, claim: str
) -> None:
    user = await factory.user()
    await assert_refused(client, forge(claims_for(user, clock, **{claim: None})))


async def test_token_for_an_unknown_user_is_401(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    await assert_refused(client, forge(claims_for(user, clock, sub=str(uuid.uuid4()))))


async def test_expired_token_is_401(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    # A token as login issues it, with the configured lifetime.
    login = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    token = login.json()["access_token"]
    minutes = factory.app.services.settings.access_token_minutes
    clock.advance(minutes=minutes - 1)
    assert await me_status(client, token) == 200
    clock.advance(minutes=1)
    await assert_refused(client, token)


async def test_token_not_valid_before_a_future_nbf_is_401(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    nbf = int(clock.now().timestamp()) + 60
    await assert_refused(client, forge(claims_for(user, clock, nbf=nbf)))


async def test_token_issued_in_the_future_is_401(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    iat = int(clock.now().timestamp()) + 120
    await assert_refused(client, forge(claims_for(user, clock, iat=iat, exp=iat + 600)))


@pytest.mark.parametrize(("alg", "digest"), [("HS384", "sha384"), ("HS512", "sha512")])
async def test_token_with_another_hmac_algorithm_is_401(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock, alg: str, digest: str
) -> None:
    user = await factory.user()
    await assert_refused(client, hand_signed(alg, claims_for(user, clock), digest))


@pytest.mark.parametrize("alg", ["RS256", "ES256", "PS256"])
async def test_asymmetric_alg_header_signed_with_the_secret_is_401(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock, alg: str
) -> None:
    # Algorithm confusion: an HMAC made with the shared secret, labelled as a public-key one.
    user = await factory.user()
    token = hand_signed(alg, claims_for(user, clock))
    await assert_refused(client, token)


async def test_logout_revokes_the_presented_token_only(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    user = await factory.user()
    other_token = factory.token_for(user.id)
    response = await client.post("/api/auth/logout", headers=user.headers)
    assert response.status_code == 200
    assert response.json() == {"revoked": True}
    await assert_refused(client, user.token)
    assert (await client.post("/api/auth/logout", headers=user.headers)).status_code == 401
    assert await me_status(client, other_token) == 200


async def test_password_change_revokes_every_older_token(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    other_token = factory.token_for(user.id)
    # Tokens issued at the very instant of the change count as issued after it.
    clock.advance(seconds=1)
    response = await client.patch(
        "/api/users/me",
        headers=user.headers,
        json={"password": "a brand new password", "current_password": user.password},
    )
    assert response.status_code == 200, response.text
    await assert_refused(client, user.token)
    await assert_refused(client, other_token)

    old = await client.post(
        "/api/auth/login", json={"email": user.email, "password": user.password}
    )
    assert_problem(old, 401, "INVALID_CREDENTIALS")
    fresh = await client.post(
        "/api/auth/login", json={"email": user.email, "password": "a brand new password"}
    )
    assert fresh.status_code == 200
    assert await me_status(client, fresh.json()["access_token"]) == 200


async def test_deactivated_user_token_is_refused_at_once(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    user = await factory.user()
    assert await me_status(client, user.token) == 200
    response = await client.patch(
        f"/api/users/{user.id}", headers=admin.headers, json={"is_active": False}
    )
    assert response.status_code == 200
    await assert_refused(client, user.token)
    # Reactivation restores the same token: nothing about it was revoked, only its holder.
    await client.patch(f"/api/users/{user.id}", headers=admin.headers, json={"is_active": True})
    assert await me_status(client, user.token) == 200


async def test_role_is_read_from_the_database_on_every_request(
    client: httpx.AsyncClient, factory: Factory
) -> None:
    admin = await factory.admin()
    user = await factory.user(Role.INTERVIEWEE)
    assert (await client.get("/api/users", headers=user.headers)).status_code == 403

    await client.patch(f"/api/users/{user.id}", headers=admin.headers, json={"role": "ADMIN"})
    listed = await client.get("/api/users", headers=user.headers)
    assert listed.status_code == 200
    assert (await client.get(ME, headers=user.headers)).json()["role"] == "ADMIN"

    await client.patch(f"/api/users/{user.id}", headers=admin.headers, json={"role": "INTERVIEWER"})
    assert (await client.get("/api/users", headers=user.headers)).status_code == 403


async def test_token_carries_identity_only(
    client: httpx.AsyncClient, factory: Factory, clock: FakeClock
) -> None:
    user = await factory.user()
    claims = jwt.decode(
        user.token,
        TEST_SECRET,
        algorithms=["HS256"],
        options={"verify_exp": False, "verify_iat": False},
    )
    assert set(claims) == {"sub", "iat", "exp", "jti"}
    assert claims["sub"] == user.id
