"""Bounds on what the proxy's endpoints accept, and the registration rate.

Open dynamic registration (:rfc:`7591`) lets anyone on the network write to
the store, so what one request may write and how often one address may do
it are bounded (:rfc:`7591#section-5`: "the authorization server SHOULD ...
rate-limit"). Each bound is a field of :class:`OAuthLimits`, set by the
``limits=`` argument of :class:`~flask_mcp.auth.proxy.OAuthProxy` or else
by the app config key ``MCP_OAUTH_<FIELD>`` (``MCP_OAUTH_MAX_BODY``...).
"""

from __future__ import annotations

import dataclasses
import math
import time
import typing as t
from collections.abc import Mapping
from dataclasses import dataclass

from flask_mcp.store import Store

#: App config keys are this prefix and the field name in capitals.
CONFIG_PREFIX = "MCP_OAUTH_"


@dataclass(frozen=True)
class OAuthLimits:
    """What the OAuth endpoints accept; every field is an app config key
    ``MCP_OAUTH_<FIELD>`` too.

    Bodies over ``max_body`` get 413 ``invalid_request``; registrations
    beyond the bounds ``invalid_redirect_uri`` / ``invalid_client_metadata``;
    beyond the rate 429 ``temporarily_unavailable`` with ``Retry-After``.
    """

    #: Largest request body of any OAuth endpoint, in bytes.
    max_body: int = 64 * 1024
    #: Most redirect URIs one client may register.
    max_redirect_uris: int = 10
    #: Longest string of client metadata (a redirect URI, a name, a URL...),
    #: in characters.
    max_field_length: int = 2048
    #: Largest client metadata kept, in bytes of JSON.
    max_metadata: int = 16 * 1024
    #: Registrations one client address may make per window; ``0``: no limit.
    #: The address is ``request.remote_addr``, IPv6 ones counted by their /64
    #: (``flask_mcp.addresses.client_key``): behind a reverse proxy, set
    #: it from ``X-Forwarded-For`` with werkzeug's ``ProxyFix``.
    registrations: int = 20
    #: The window of ``registrations``, in seconds.
    registration_window: int = 3600
    #: Seconds a registration lives until it is first used for a login; each
    #: login then keeps it for two years.
    unused_client_ttl: int = 86400

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            least = 0 if f.name == "registrations" else 1
            if not isinstance(value, int) or isinstance(value, bool) or value < least:
                raise ValueError(f"OAuthLimits.{f.name} must be an integer >= {least}")

    @classmethod
    def from_config(cls, config: Mapping[str, t.Any]) -> OAuthLimits:
        """The limits the ``MCP_OAUTH_*`` keys of ``config`` set, defaults
        for the others."""
        values = {
            f.name: config[CONFIG_PREFIX + f.name.upper()]
            for f in dataclasses.fields(cls)
            if config.get(CONFIG_PREFIX + f.name.upper()) is not None
        }
        return cls(**values)


class RateLimiter:
    """A fixed-window counter per key in the shared store, so every worker
    of every host counts together.

    :param limit: calls allowed per window; ``0``: no limit.
    :param window: the window, in seconds.
    """

    def __init__(self, store: Store, limit: int, window: int) -> None:
        self.store = store
        self.limit = limit
        self.window = window

    def hit(self, key: str) -> float | None:
        """Count one call for ``key``: ``None`` if it is allowed, else the
        seconds until the window ends (for ``Retry-After``)."""
        if not self.limit:
            return None
        now = time.time()
        start = math.floor(now / self.window) * self.window
        count = self.store.incr(f"{key}:{int(start)}", self.window)
        if count <= self.limit:
            return None
        return start + self.window - now
