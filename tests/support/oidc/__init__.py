"""A configurable OpenID Connect issuer for tests, served on loopback.

::

    from support.oidc import OIDCIssuer, IssuerSettings, flavours

    with OIDCIssuer(flavours.keycloak(clients=[Client("app", "secret")])) as idp:
        idp.issuer  # http://127.0.0.1:PORT/realms/acme

What it serves: discovery (``/.well-known/openid-configuration`` under the
issuer, and the :rfc:`8414` path-inserted URL), a JWK Set that rotates
(``idp.keys.rotate()``, ``idp.keys.retire(kid)``), an authorization endpoint
that signs the user in at once (``login_hint`` or ``idp.login_as(sub)``
picks who), a token endpoint (authorization_code with S256 PKCE, refresh
with rotation, client_credentials, :rfc:`8693` token exchange including
ID-JAGs, Entra's on-behalf-of), userinfo, revocation and introspection.

Quirks are settings (:class:`IssuerSettings`); :mod:`.flavours` sets them up
as Keycloak, Okta, Auth0, Cognito, GitLab and Entra ID behave. The controls
of the Node issuer of the OAuth proxy tests are there too (``config``,
``next_token_error``, ``next_authorize_error``, ``mint``, ``stats``).
"""

from __future__ import annotations

from . import flavours
from .issuer import OIDCIssuer
from .issuer import Seen
from .settings import ACCESS_TOKEN_TYPE
from .settings import ID_JAG_TOKEN_TYPE
from .settings import ID_TOKEN_TYPE
from .settings import JWT_BEARER
from .settings import TOKEN_EXCHANGE
from .settings import Client
from .settings import IssuerSettings
from .settings import User

__all__ = [
    "ACCESS_TOKEN_TYPE",
    "ID_JAG_TOKEN_TYPE",
    "ID_TOKEN_TYPE",
    "JWT_BEARER",
    "TOKEN_EXCHANGE",
    "Client",
    "IssuerSettings",
    "OIDCIssuer",
    "Seen",
    "User",
    "flavours",
]
