"""What one :class:`~flask_mcp.auth.proxy.OAuthProxy` keeps per app.

It lives in ``app.extensions["mcp_oauth"][name]``; the proxy object itself
only holds settings that do not depend on the app.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from flask import current_app

from ..authenticators import Authenticator
from ..providers.base import Provider
from .consent import BrowserCookie
from .keys import SigningKeys
from .resource import ResourceGuard
from .server import ProxyAuthorizationServer
from .storage import ProxyStorage
from .upstream import UpstreamLeg

if t.TYPE_CHECKING:
    from .extension import OAuthProxy

__all__ = ["EXTENSION_KEY", "ProxyState", "get_state"]

#: Key of the per-app states in ``app.extensions``.
EXTENSION_KEY = "mcp_oauth"


@dataclass
class ProxyState:
    """The per-app parts of one proxy."""

    proxy: OAuthProxy
    name: str
    #: Blueprint name, for ``url_for``.
    blueprint: str
    issuer: str
    #: The MCP endpoint URL: the audience of our access tokens.
    resource: str
    provider: Provider
    keys: SigningKeys
    storage: ProxyStorage
    server: ProxyAuthorizationServer
    upstream: UpstreamLeg
    guard: ResourceGuard
    cookie: BrowserCookie
    #: ``authenticate(request)`` for the MCP endpoint.
    authenticate: Authenticator


def get_state(name: str) -> ProxyState:
    """The state of the proxy ``name`` in the current app."""
    return t.cast(ProxyState, current_app.extensions[EXTENSION_KEY][name])
