"""The settings of Client ID Metadata Documents: :class:`CIMDOptions`.

Set them with the ``cimd=`` argument of
:class:`~flask_mcp.auth.proxy.OAuthProxy`, or else with the app config keys
``MCP_OAUTH_CIMD_<FIELD>`` (``MCP_OAUTH_CIMD_ENABLED = False``...), the way
:class:`~flask_mcp.auth.proxy.OAuthLimits` reads ``MCP_OAUTH_<FIELD>``.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

#: App config keys are this prefix and the field name in capitals.
CONFIG_PREFIX = "MCP_OAUTH_CIMD_"

_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_HOST_NAME = re.compile(rf"{_LABEL}(\.{_LABEL})*")
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class CIMDOptions:
    """How the proxy treats a ``client_id`` that is an https URL: the URL of
    the client's metadata document, fetched and checked by this server.

    Every field is an app config key ``MCP_OAUTH_CIMD_<FIELD>`` too.
    """

    #: Accept URL client ids and advertise
    #: ``client_id_metadata_document_supported``.
    enabled: bool = True
    #: Host names, IP addresses or networks (``"localhost"``,
    #: ``"10.0.0.0/8"``) that may be fetched although they are not public:
    #: only for local testing or a trusted internal client. A comma-separated
    #: string is accepted too.
    allow_hosts: tuple[str, ...] = ()
    #: Least seconds a fetched document is kept, whatever its
    #: ``Cache-Control`` says (``no-store`` and ``no-cache`` included: one
    #: sign-in needs it several times); also the lifetime of a document sent
    #: without caching headers.
    min_cache: int = 300
    #: Most seconds a fetched document is kept: a client's changes (its
    #: redirect URIs...) take effect at the next fetch, this long at the most.
    max_cache: int = 86400
    #: Seconds to connect, and seconds the whole fetch may take (the
    #: connection is cut then, however slowly the answer trickles in). A
    #: fetch holds a worker that long at most: keep it short.
    timeout: float = 2.0
    #: Largest document read, in bytes (the draft suggests 5 KB).
    max_size: int = 5 * 1024
    #: Fetches (of documents not in the store) one client address may cause
    #: per minute; ``0``: no limit. Each holds a worker up to ``timeout``;
    #: beyond it, 429 ``temporarily_unavailable`` with ``Retry-After``. The
    #: address is ``request.remote_addr``, IPv6 ones by their /64 (see
    #: ``OAuthLimits.registrations``). Each address has one fetch in flight at
    #: most, and each URL one for the whole deployment.
    fetches_per_minute: int = 30
    #: Seconds a failed fetch or a refused document is remembered: requests
    #: for it meanwhile are refused without fetching. ``0``: never.
    failure_cache: int = 30

    def __post_init__(self) -> None:
        hosts = self.allow_hosts
        if isinstance(hosts, str):
            hosts = tuple(hosts.split(","))
        if not all(isinstance(h, str) for h in hosts):
            raise ValueError("CIMDOptions.allow_hosts must be host names or addresses")
        hosts = tuple(h.strip().lower() for h in hosts if h.strip())
        object.__setattr__(self, "allow_hosts", hosts)
        self.allowed_names()  # refuse what is neither a name nor an address
        if not isinstance(self.enabled, bool):
            raise ValueError("CIMDOptions.enabled must be True or False")
        for name in (
            "min_cache",
            "max_cache",
            "max_size",
            "fetches_per_minute",
            "failure_cache",
        ):
            least = int(name not in ("fetches_per_minute", "failure_cache"))
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"CIMDOptions.{name} must be an integer >= {least}")
        if self.max_cache < self.min_cache:
            raise ValueError("CIMDOptions.max_cache must be at least min_cache")
        timeout = self.timeout
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
            raise ValueError("CIMDOptions.timeout must be a number of seconds")
        if not 0 < timeout <= 60:
            raise ValueError("CIMDOptions.timeout must be above 0 and at most 60")

    @classmethod
    def from_config(cls, config: Mapping[str, t.Any]) -> CIMDOptions:
        """The options the ``MCP_OAUTH_CIMD_*`` keys of ``config`` set,
        defaults for the others."""
        values = {
            f.name: config[CONFIG_PREFIX + f.name.upper()]
            for f in dataclasses.fields(cls)
            if config.get(CONFIG_PREFIX + f.name.upper()) is not None
        }
        if isinstance(values.get("allow_hosts"), list):
            values["allow_hosts"] = tuple(values["allow_hosts"])
        return cls(**values)

    def allowed_names(self) -> frozenset[str]:
        """The host names of ``allow_hosts``."""
        names, _ = _split(self.allow_hosts)
        return names

    def allowed_networks(self) -> tuple[Network, ...]:
        """The addresses and networks of ``allow_hosts``."""
        _, networks = _split(self.allow_hosts)
        return networks


def _split(hosts: tuple[str, ...]) -> tuple[frozenset[str], tuple[Network, ...]]:
    names: set[str] = set()
    networks: list[Network] = []
    for host in hosts:
        try:
            networks.append(ipaddress.ip_network(host.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        name = host.rstrip(".")
        if not _HOST_NAME.fullmatch(name):
            raise ValueError(
                f"CIMDOptions.allow_hosts: {host!r} is neither a host name nor an"
                " IP address or network"
            )
        names.add(name)
    return frozenset(names), tuple(networks)
