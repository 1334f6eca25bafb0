"""The client address behind trusted proxies (docs/api.md §2 `TRUSTED_PROXIES`, §3.3).

Through the HTTP layer: the address the access log records and the login limit counts is the
connection's peer, or, when the peer is a trusted proxy, the first untrusted address of
`X-Forwarded-For` walked from the right. An untrusted peer's header is never read.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
from fastapi import FastAPI

from peerview.clock import FakeClock
from peerview.config import Settings
from peerview.proxies import TrustedProxies, parse_address, parse_networks
from tests.platform.apps import assert_problem, client_for, extra_app

LOGIN = "/api/auth/login"
LIMIT = 3
PROXIES = "10.0.0.0/8, 2001:db8:10::/48, 192.0.2.7"


def proxied(settings: Settings, trusted: str | None = PROXIES) -> Settings:
    """A per-address login limit of 3, cheap password checks, and `trusted` proxies.

    model_copy skips validation, which would refuse an argon2 cost this low, as it should.
    """
    return settings.model_copy(
        update={
            "trusted_proxies": trusted,
            "login_max_failures_per_address": LIMIT,
            "argon2_memory_kib": 1024,
            "argon2_time_cost": 1,
        }
    )


@pytest.fixture
async def behind_proxy(settings: Settings, clock: FakeClock) -> AsyncIterator[FastAPI]:
    async with extra_app(proxied(settings), clock) as app:
        yield app


def forwarded(*values: str | bytes) -> list[tuple[str, str | bytes]]:
    return [("X-Forwarded-For", value) for value in values]


async def failed_login(
    app: FastAPI, peer: str, headers: Sequence[tuple[str, str | bytes]] = ()
) -> httpx.Response:
    """A wrong password for an account of its own, from `peer` with `headers`: only the
    address limit can refuse it."""
    email = f"nobody-{uuid.uuid4().hex}@example.com"
    async with client_for(app, peer) as c:
        return await c.post(
            LOGIN, json={"email": email, "password": "wrong password"}, headers=list(headers)
        )


async def exhaust(app: FastAPI, peer: str, headers: Sequence[tuple[str, str | bytes]] = ()) -> None:
    for _ in range(LIMIT):
        assert (await failed_login(app, peer, headers)).status_code == 401


def assert_throttled(response: httpx.Response) -> None:
    assert_problem(response, 429, "TOO_MANY_LOGIN_ATTEMPTS")


# --- the login limit ---------------------------------------------------------------------


async def test_two_clients_behind_one_trusted_proxy_are_limited_separately(
    behind_proxy: FastAPI,
) -> None:
    await exhaust(behind_proxy, "10.0.0.1", forwarded("203.0.113.5"))
    assert_throttled(await failed_login(behind_proxy, "10.0.0.1", forwarded("203.0.113.5")))
    other = await failed_login(behind_proxy, "10.0.0.1", forwarded("203.0.113.6"))
    assert other.status_code == 401, other.text


async def test_without_trusted_proxies_every_client_of_a_proxy_shares_its_limit(
    settings: Settings, clock: FakeClock
) -> None:
    # The control of the test above: with the default (trust no one) the header is ignored.
    async with extra_app(proxied(settings, trusted=None), clock) as app:
        await exhaust(app, "10.0.0.1", forwarded("203.0.113.5"))
        assert_throttled(await failed_login(app, "10.0.0.1", forwarded("203.0.113.6")))


async def test_an_untrusted_senders_forwarded_for_is_ignored(behind_proxy: FastAPI) -> None:
    spoofer = "198.51.100.7"
    for i in range(LIMIT):
        response = await failed_login(behind_proxy, spoofer, forwarded(f"203.0.113.{i + 10}"))
        assert response.status_code == 401
    assert_throttled(await failed_login(behind_proxy, spoofer, forwarded("203.0.113.99")))
    # Nor can it spend another client's tries: the address it named is untouched.
    named = await failed_login(behind_proxy, "10.0.0.1", forwarded("203.0.113.10"))
    assert named.status_code == 401, named.text


async def test_a_client_is_one_client_whatever_chain_of_trusted_proxies_it_came_through(
    behind_proxy: FastAPI,
) -> None:
    await failed_login(behind_proxy, "10.0.0.1", forwarded("203.0.113.9"))
    await failed_login(behind_proxy, "10.0.0.2", forwarded("203.0.113.9, 10.3.3.3"))
    # What the client wrote itself, left of its own address, changes nothing.
    await failed_login(behind_proxy, "192.0.2.7", forwarded("6.6.6.6, 203.0.113.9", "10.9.9.9"))
    assert_throttled(await failed_login(behind_proxy, "10.0.0.1", forwarded("203.0.113.9")))


async def test_ipv6_clients_behind_an_ipv6_proxy_are_limited_separately(
    behind_proxy: FastAPI,
) -> None:
    proxy = "2001:db8:10::1"
    # Three spellings of one address are one client.
    for spelling in ("2001:db8:beef::5", "2001:DB8:BEEF:0:0:0:0:5", "[2001:db8:beef::5]:443"):
        response = await failed_login(behind_proxy, proxy, forwarded(spelling))
        assert response.status_code == 401
    assert_throttled(await failed_login(behind_proxy, proxy, forwarded("2001:db8:beef::5")))
    other = await failed_login(behind_proxy, proxy, forwarded("2001:db8:beef::6"))
    assert other.status_code == 401, other.text


async def test_a_malformed_forwarded_for_counts_against_the_proxy_not_a_500(
    behind_proxy: FastAPI,
) -> None:
    for garbage in ("not-an-address", "203.0.113.5, unknown", "999.1.1.1"):
        response = await failed_login(behind_proxy, "10.0.0.1", forwarded(garbage))
        assert response.status_code == 401, (garbage, response.text)
    # All three were the proxy's own failures.
    assert_throttled(await failed_login(behind_proxy, "10.0.0.1"))


# --- the address the access log records ------------------------------------------------

CASES = {
    "untrusted peer, header ignored": ("198.51.100.7", ["203.0.113.5"], "198.51.100.7"),
    "trusted peer, no header": ("10.0.0.1", [], "10.0.0.1"),
    "one trusted hop": ("10.0.0.1", ["203.0.113.5"], "203.0.113.5"),
    "chain of trusted hops": ("10.0.0.1", ["203.0.113.5, 10.1.1.1, 192.0.2.7"], "203.0.113.5"),
    "spoofed left of the client": ("10.0.0.1", ["1.2.3.4, 203.0.113.5"], "203.0.113.5"),
    "several header lines": ("10.0.0.1", ["1.2.3.4, 203.0.113.5", "10.2.2.2"], "203.0.113.5"),
    "every hop trusted": ("10.0.0.1", ["10.5.5.5, 10.6.6.6"], "10.5.5.5"),
    "empty elements ignored": ("10.0.0.1", [" , 203.0.113.5 ,, "], "203.0.113.5"),
    "IPv4 with a port": ("10.0.0.1", ["203.0.113.5:5123"], "203.0.113.5"),
    "IPv6 client": ("2001:db8:10::1", ["2001:DB8:BEEF::5"], "2001:db8:beef::5"),
    "IPv6 in brackets with a port": ("10.0.0.1", ["[2001:db8:beef::5]:443"], "2001:db8:beef::5"),
    "IPv4-mapped peer trusted": ("::ffff:10.0.0.1", ["203.0.113.5"], "203.0.113.5"),
    "IPv4-mapped client": ("10.0.0.1", ["::ffff:203.0.113.5"], "203.0.113.5"),
    "garbage: the peer": ("10.0.0.1", ["garbage"], "10.0.0.1"),
    "garbage after the client": ("10.0.0.1", ["garbage, 203.0.113.5"], "203.0.113.5"),
    "garbage between trusted hops": ("10.0.0.1", ["203.0.113.5, ???, 10.1.1.1"], "10.1.1.1"),
    "obfuscated name": ("10.0.0.1", ["_hidden, unknown"], "10.0.0.1"),
    "bad port": ("10.0.0.1", ["203.0.113.5:http"], "10.0.0.1"),
    "unclosed bracket": ("10.0.0.1", ["[2001:db8::5"], "10.0.0.1"),
    "bytes that are not text": ("10.0.0.1", [b"\xff\xfe, 203.0.113.5"], "203.0.113.5"),
    "bytes that are not text last": ("10.0.0.1", [b"203.0.113.5, \xff\xfe"], "10.0.0.1"),
    "untrusted hostname peer": ("testclient", ["203.0.113.5"], "testclient"),
}


@pytest.mark.parametrize(("peer", "headers", "client"), CASES.values(), ids=CASES.keys())
async def test_the_access_log_records_the_resolved_client(
    behind_proxy: FastAPI,
    caplog: pytest.LogCaptureFixture,
    peer: str,
    headers: list[str | bytes],
    client: str,
) -> None:
    caplog.set_level(logging.INFO)
    async with client_for(behind_proxy, peer) as c:
        response = await c.get("/api/health", headers=forwarded(*headers))
    assert response.status_code == 200
    (record,) = [r for r in caplog.records if r.name == "peerview.access"]
    assert record.client == client  # type: ignore[attr-defined]


async def test_without_trusted_proxies_the_log_records_the_peer(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    async with client_for(app, "10.0.0.1") as c:
        await c.get("/api/health", headers=forwarded("203.0.113.5"))
    (record,) = [r for r in caplog.records if r.name == "peerview.access"]
    assert record.client == "10.0.0.1"  # type: ignore[attr-defined]


# --- the rules alone ---------------------------------------------------------------------


def test_a_trusted_network_covers_its_addresses_only() -> None:
    proxies = TrustedProxies(parse_networks("10.0.0.0/8, 2001:db8::/32"))
    assert proxies.client("10.255.255.255", ["203.0.113.5"]) == "203.0.113.5"
    assert proxies.client("11.0.0.1", ["203.0.113.5"]) == "11.0.0.1"
    assert proxies.client("2001:db8:ffff::1", ["203.0.113.5"]) == "203.0.113.5"
    assert proxies.client("2001:db9::1", ["203.0.113.5"]) == "2001:db9::1"


def test_no_trusted_proxies_trusts_no_one() -> None:
    proxies = TrustedProxies(parse_networks(None))
    assert not proxies
    assert proxies.client("127.0.0.1", ["203.0.113.5"]) == "127.0.0.1"


@pytest.mark.parametrize(
    ("hop", "address"),
    [
        ("203.0.113.5", "203.0.113.5"),
        (" 203.0.113.5 ", "203.0.113.5"),
        ("203.0.113.5:80", "203.0.113.5"),
        ("[::1]", "::1"),
        ("[::1]:8080", "::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"),
        ("", None),
        ("203.0.113.5:", None),
        ("203.0.113.5:123456", None),
        ("[::1]x", None),
        ("[203.0.113.5", None),
        ("::1:80:", None),
        ("localhost", None),
    ],
)
def test_a_hop_is_an_address_or_nothing(hop: str, address: str | None) -> None:
    parsed = parse_address(hop)
    assert (str(parsed) if parsed is not None else None) == address
