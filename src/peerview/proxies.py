"""The client's address behind trusted proxies: `TRUSTED_PROXIES` and `X-Forwarded-For`.

Behind a reverse proxy every connection comes from the proxy, so whatever is judged per
client address (the login limit of docs/api.md §3.3, the access log) would see one client.
When the connection's peer is a trusted proxy, `X-Forwarded-For` names the client: each proxy
appends the address it was connected from, so the list is walked from the right, past the
proxies that are trusted themselves, to the first address that is not, the client. Entries to
its left were written by the client or by proxies nobody vouches for, and are never read.

A peer that is not trusted is the client whatever its `X-Forwarded-For` says: a client cannot
choose the address it is limited by. An entry that is not an address (garbage, `unknown`, an
obfuscated RFC 7239 name) ends the walk: the client is then the last hop that was well formed,
a trusted proxy, which is safe (it shares that proxy's limit) and never an error.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network

Address = IPv4Address | IPv6Address
Network = IPv4Network | IPv6Network


def parse_networks(text: str | None) -> tuple[Network, ...]:
    """The addresses and CIDR networks of a comma-separated list; blank entries are skipped.

    Raises ValueError naming the first entry that is neither, or a network with host bits set
    (`10.0.0.1/8`: which of 10.0.0.0/8 and 10.0.0.1/32 was meant cannot be guessed, and
    trusting more than meant is how a limit gets bypassed).
    """
    networks: list[Network] = []
    for raw in (text or "").split(","):
        entry = raw.strip()
        if not entry:
            continue
        try:
            network = ip_network(entry, strict=True)
        except ValueError:
            try:
                suggestion = ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"{entry!r} is not an IP address or a CIDR network (like 10.0.0.0/8 or "
                    "2001:db8::/32)"
                ) from None
            raise ValueError(
                f"{entry!r} has host bits set; write the network ({suggestion}) or the single "
                "address"
            ) from None
        networks.append(_unmapped_network(network))
    return tuple(networks)


def _unmapped(address: Address) -> Address:
    """An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as dual-stack sockets report IPv4
    peers) as the IPv4 address it is, so that it matches IPv4 networks and counts as one."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _unmapped_network(network: Network) -> Network:
    if isinstance(network, IPv6Network) and network.prefixlen >= 96:
        mapped = network.network_address.ipv4_mapped
        if mapped is not None:
            return IPv4Network((mapped, network.prefixlen - 96))
    return network


def parse_address(text: str) -> Address | None:
    """One hop of `X-Forwarded-For`: an IPv4 or IPv6 address, also as `[v6]`, `[v6]:port` or
    `v4:port`; None for anything else."""
    text = text.strip()
    if text.startswith("["):
        text, bracket, port = text[1:].partition("]")
        if not bracket or (port and not _is_port(port)):
            return None
    elif text.count(":") == 1:
        text, _, port = text.partition(":")
        if not _is_port(":" + port):
            return None
    try:
        return _unmapped(ip_address(text))
    except ValueError:
        return None


def _is_port(text: str) -> bool:
    return text.startswith(":") and text[1:].isdigit() and len(text) <= 6


class TrustedProxies:
    """Resolves the client address of a connection from its peer and `X-Forwarded-For`."""

    def __init__(self, networks: Iterable[Network]) -> None:
        self.networks = tuple(networks)

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: Address) -> bool:
        return any(address in network for network in self.networks)

    def client(self, peer: str, forwarded_for: Iterable[str]) -> str:
        """The client's address: `peer` unless it is a trusted proxy (see the module)."""
        try:
            current: Address = _unmapped(ip_address(peer))
        except ValueError:
            return peer
        if not self.trusts(current):
            return peer
        # Several header lines are one list, in order (RFC 9110 §5.3); empty elements are
        # ignored, as the list syntax says (§5.6.1).
        hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
        for hop in reversed(hops):
            address = parse_address(hop)
            if address is None:
                break
            current = address
            if not self.trusts(address):
                break
        return str(current)
