"""Which addresses a metadata document may be fetched from.

The ``client_id`` URL is chosen by whoever sends the authorization request,
so fetching it could reach the server's own network: an admin interface on
loopback, a cloud metadata service on a link-local address
(``169.254.169.254``), anything on a private network (Server-Side Request
Forgery, CIMD draft section 6.5). Only globally routable unicast addresses
are fetched, unless the host name or the address is allow-listed
(:attr:`~.options.CIMDOptions.allow_hosts`).

IPv6 forms that carry an IPv4 address (mapped ``::ffff:127.0.0.1``, 6to4,
Teredo, NAT64 ``64:ff9b::``) are judged by that address too.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from .cimd_options import CIMDOptions
from .cimd_options import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressPolicy:
    """The allow-list of :class:`~.options.CIMDOptions`, and the rule for
    every other address."""

    def __init__(self, options: CIMDOptions) -> None:
        self.names = options.allowed_names()
        self.networks: tuple[Network, ...] = options.allowed_networks()

    def refusal(self, host: str, address: str) -> str | None:
        """Why ``address`` (which ``host`` resolved to) must not be fetched,
        ``None`` if it may be."""
        if host.lower().rstrip(".") in self.names:
            return None
        try:
            ip = ipaddress.ip_address(address.partition("%")[0])
        except ValueError:
            return "not an IP address"
        if any(ip in network for network in self.networks):
            return None
        for candidate in (*_embedded(ip), ip):
            reason = _kind(candidate)
            if reason:
                return reason
        return None


def _kind(ip: Address) -> str | None:
    """What makes ``ip`` non-public, ``None`` for a public unicast address."""
    checks = (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("not globally routable", not ip.is_global),
    )
    for reason, applies in checks:
        if applies:
            return reason
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "site-local"
    return None


def _embedded(ip: Address) -> Iterable[Address]:
    """IPv4 addresses an IPv6 address carries."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return ()
    found: list[Address] = []
    if ip.ipv4_mapped:
        found.append(ip.ipv4_mapped)
    if ip.sixtofour:
        found.append(ip.sixtofour)
    if ip.teredo:
        found.extend(ip.teredo)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(ip.packed[-4:]))
    return found
