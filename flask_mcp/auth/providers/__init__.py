"""Upstream identity providers of the OAuth proxy.

One module per provider: :mod:`.oauth` (explicit endpoints, :rfc:`6749`,
:rfc:`7636`, :rfc:`7009`), :mod:`.oidc` (any OpenID Connect issuer, from its
discovery document), :mod:`.google`, :mod:`.github`, :mod:`.microsoft`; the
contract they implement is in :mod:`.base`.
"""

from __future__ import annotations

from .github import GitHubProvider
from .github import GitHubSession
from .google import GoogleProvider
from .google import GoogleSession
from .microsoft import MicrosoftProvider
from .microsoft import MicrosoftSession
from .oauth import OAuthProvider
from .oidc import OIDCProvider
from .provider import OAuthSession
from .provider import Provider
from .provider import UpstreamError
from .provider import UpstreamTokens

__all__ = [
    "GitHubProvider",
    "GitHubSession",
    "GoogleProvider",
    "GoogleSession",
    "MicrosoftProvider",
    "MicrosoftSession",
    "OAuthProvider",
    "OAuthSession",
    "OIDCProvider",
    "Provider",
    "UpstreamError",
    "UpstreamTokens",
]
