"""Upstream identity providers of the OAuth proxy.

One module per provider: :mod:`.oauth` (explicit endpoints, :rfc:`6749`,
:rfc:`7636`, :rfc:`7009`), :mod:`.oidc` (any OpenID Connect issuer, from its
discovery document), :mod:`.google`, :mod:`.github`, :mod:`.microsoft`
(``AzureProvider``), :mod:`.keycloak`, :mod:`.okta`, :mod:`.auth0`,
:mod:`.cognito`, :mod:`.gitlab`; the contract they implement is in
:mod:`.provider`.
"""

from __future__ import annotations

from .auth0 import Auth0Provider
from .cognito import CognitoProvider
from .github import GitHubProvider
from .github import GitHubSession
from .gitlab import GitLabProvider
from .gitlab import GitLabSession
from .google import GoogleProvider
from .google import GoogleSession
from .keycloak import KeycloakProvider
from .microsoft import AzureProvider
from .microsoft import MicrosoftProvider
from .microsoft import MicrosoftSession
from .oauth import OAuthProvider
from .oidc import OIDCProvider
from .okta import OktaProvider
from .provider import OAuthSession
from .provider import Provider
from .provider import UpstreamError
from .provider import UpstreamTokens

__all__ = [
    "Auth0Provider",
    "AzureProvider",
    "CognitoProvider",
    "GitHubProvider",
    "GitHubSession",
    "GitLabProvider",
    "GitLabSession",
    "GoogleProvider",
    "GoogleSession",
    "KeycloakProvider",
    "MicrosoftProvider",
    "MicrosoftSession",
    "OAuthProvider",
    "OAuthSession",
    "OIDCProvider",
    "OktaProvider",
    "Provider",
    "UpstreamError",
    "UpstreamTokens",
]
