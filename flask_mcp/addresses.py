"""Who counts as one client for per-address limits.

An IPv6 host usually owns a whole /64 and can rotate through it at will, so
per-address limits count IPv6 clients by their /64 prefix; IPv4 addresses
(and IPv4-mapped IPv6 ones) count one by one.
"""

from __future__ import annotations

import ipaddress


def client_key(address: str | None) -> str:
    """The key per-address limits count ``address`` under.

    ``203.0.113.7`` -> ``203.0.113.7``; ``2001:db8::1`` and ``2001:db8::2``
    -> ``2001:db8::/64``; anything that is not an IP address (a Unix socket
    peer, ``None``) is counted as given.
    """
    if not address:
        return "-"
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address[:64]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)
