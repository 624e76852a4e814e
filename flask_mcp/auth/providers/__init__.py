"""Upstream identity providers of the OAuth proxy.

One module per provider: :mod:`.oauth` (explicit endpoints, :rfc:`6749`,
:rfc:`7636`, :rfc:`7009`), :mod:`.oidc` (any OpenID Connect issuer, from its
discovery document), :mod:`.google`, :mod:`.github`, :mod:`.microsoft`; the
contract they implement is in :mod:`.base`.
"""

from __future__ import annotations

from .base import OAuthSession
from .base import Provider
from .base import UpstreamError
from .base import UpstreamTokens
from .github import GitHubProvider
from .github import GitHubSession
from .google import GoogleProvider
from .google import GoogleSession
from .microsoft import MicrosoftProvider
from .microsoft import MicrosoftSession
from .oauth import OAuthProvider
from .oidc import OIDCProvider

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
