"""What one :class:`~flask_mcp.auth.proxy.OAuthProxy` keeps per app.

* :class:`ProxyAppState`: the authorization server of the proxy on one app
  (storage, keys, browser cookie, routes), in
  ``app.extensions["mcp_oauth"]``. One per app: the proxy's routes are at
  fixed paths (``/oauth/...``).
* :class:`ProxyState`: one MCP endpoint behind it, what
  :meth:`OAuthProxy.init_app` returns: the endpoint's ``authenticate`` and
  the discovery documents it publishes. A proxy shared by several
  :class:`~flask_mcp.FlaskMCP` servers of one app has one per endpoint, each
  accepting only the access tokens issued for it (their ``aud``).

The proxy object itself only holds settings that do not depend on the app.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from dataclasses import field

from flask import current_app

from ..metadata import OAuthSettings
from ..providers.provider import OAuthSession
from ..providers.provider import Provider
from .authorization_server import ProxyAuthorizationServer
from .cimd import ClientDocuments
from .consent import BrowserCookie
from .keys import SigningKeys
from .limits import OAuthLimits
from .limits import RateLimiter
from .redirects import RedirectPattern
from .storage import ProxyStorage
from .upstream import UpstreamLeg

if t.TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from ..authenticators import Authenticator

#: Key of the per-app state in ``app.extensions``.
EXTENSION_KEY = "mcp_oauth"


@dataclass
class ProxyAppState:
    """The proxy's authorization server on one app."""

    #: The proxy these are of, only to tell it from another proxy (so typed
    #: ``object``: this module sits below the proxy's).
    proxy: object = field(repr=False)
    #: Names the generated key files and the browser cookie: the name of
    #: the first endpoint set up.
    name: str
    #: Blueprint name, for ``url_for``.
    blueprint: str
    issuer: str
    provider: Provider
    keys: SigningKeys
    storage: ProxyStorage
    server: ProxyAuthorizationServer
    upstream: UpstreamLeg
    cookie: BrowserCookie
    limits: OAuthLimits
    #: Counts registrations per client address.
    registration_rate: RateLimiter
    #: The redirect URI allow-list, ``None`` for none.
    patterns: list[RedirectPattern] | None
    #: Clients identified by a metadata document; ``None``: not accepted.
    documents: ClientDocuments | None
    #: The URLs of the MCP endpoints, first set up first: the audiences of
    #: the tokens (the server reads this very list).
    resources: list[str] = field(default_factory=list)
    #: The endpoints by name.
    endpoints: dict[str, ProxyState] = field(default_factory=dict)
    #: The :rfc:`8414` document of the proxy.
    metadata: dict[str, t.Any] = field(default_factory=dict)


@dataclass
class ProxyState:
    """One MCP endpoint behind the proxy on one app."""

    name: str
    #: The endpoint's URL: the audience of its access tokens.
    resource: str
    #: The authorization server the endpoint is behind.
    app_state: ProxyAppState = field(repr=False)
    #: The documents the FlaskMCP publishes: :rfc:`8414` metadata of the
    #: proxy and the :rfc:`9728` document of this endpoint.
    oauth_settings: OAuthSettings
    #: ``bearer_auth`` over the endpoint's :class:`~.resource.ResourceGuard`.
    bearer: Authenticator = field(repr=False)

    def authenticate(self, request: Request) -> OAuthSession | None:
        """The session of a request to the endpoint (or a protected route).

        Reads only ``Authorization: Bearer``; ``None`` without credentials.

        :raises Unauthorized: ``invalid_token`` for a token this server did
            not issue for this endpoint, an expired or revoked one.
        """
        return t.cast("OAuthSession | None", self.bearer(request))


def get_app_state() -> ProxyAppState:
    """The proxy's state on the current app."""
    return t.cast(ProxyAppState, current_app.extensions[EXTENSION_KEY])
