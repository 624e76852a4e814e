"""Authentication and authorization building blocks for MCP servers.

Bearer tokens (:rfc:`6750`), JWT access tokens (:rfc:`9068`), token
introspection (:rfc:`7662`), authorization server metadata (:rfc:`8414`) and
protected resource metadata (:rfc:`9728`), plus access checks for tools,
resources and prompts. Nothing here knows about tools or the transport: the
transport calls these.
"""

from __future__ import annotations

import typing as t

from .. import _exports

if t.TYPE_CHECKING:
    from .access import AccessCheck as AccessCheck
    from .access import Check as Check
    from .access import CheckFactory as CheckFactory
    from .access import ScopedCheck as ScopedCheck
    from .access import get_auth_session as get_auth_session
    from .access import require_all as require_all
    from .access import require_any as require_any
    from .access import require_auth as require_auth
    from .access import require_role as require_role
    from .access import require_scopes as require_scopes
    from .access import roles_of as roles_of
    from .access import run_check as run_check
    from .access import scopes_of as scopes_of
    from .authenticators import APIKeyAuth as APIKeyAuth
    from .authenticators import Authenticator as Authenticator
    from .authenticators import DeclaresChallenge as DeclaresChallenge
    from .authenticators import ManagedKeyAuth as ManagedKeyAuth
    from .authenticators import TokenVerifier as TokenVerifier
    from .authenticators import api_key_auth as api_key_auth
    from .authenticators import bearer_auth as bearer_auth
    from .authenticators import managed_key_auth as managed_key_auth
    from .challenge import bearer_challenge as bearer_challenge
    from .claims import ClaimNames as ClaimNames
    from .claims import TokenSession as TokenSession
    from .combined import AnyOf as AnyOf
    from .combined import any_of as any_of
    from .discovery import DiscoveryDocumentCache as DiscoveryDocumentCache
    from .discovery import DiscoveryError as DiscoveryError
    from .downstream import DownstreamTokens as DownstreamTokens
    from .errors import AuthenticationRequired as AuthenticationRequired
    from .errors import AuthError as AuthError
    from .errors import Forbidden as Forbidden
    from .errors import Unauthorized as Unauthorized
    from .exchange import DownstreamError as DownstreamError
    from .exchange import OnBehalfOf as OnBehalfOf
    from .exchange import TokenExchange as TokenExchange
    from .introspection import IntrospectionVerifier as IntrospectionVerifier
    from .jwks import JWKSet as JWKSet
    from .jwks import discover_jwks_uri as discover_jwks_uri
    from .jwt import DEFAULT_ALGORITHMS as DEFAULT_ALGORITHMS
    from .jwt import JWTVerifier as JWTVerifier
    from .keyring import KeyRing as KeyRing
    from .keyring import ManagedKeySession as ManagedKeySession
    from .metadata import AuthorizationServerMetadata as AuthorizationServerMetadata
    from .metadata import OAuthSettings as OAuthSettings
    from .metadata import ProtectedResourceMetadata as ProtectedResourceMetadata
    from .metadata import (
        authorization_server_metadata_url as authorization_server_metadata_url,
    )
    from .metadata import openid_configuration_url as openid_configuration_url
    from .metadata import (
        protected_resource_metadata_url as protected_resource_metadata_url,
    )
    from .principals import Authenticated as Authenticated
    from .principals import HasSource as HasSource
    from .principals import principal_of as principal_of

#: Public name -> submodule. Imported on first use: the JWT, HTTP and
#: authlib dependencies cost every gunicorn worker ~15 MB when unused.
_EXPORTS = {
    "APIKeyAuth": "authenticators",
    "Authenticator": "authenticators",
    "DeclaresChallenge": "authenticators",
    "ManagedKeyAuth": "authenticators",
    "managed_key_auth": "authenticators",
    "KeyRing": "keyring",
    "ManagedKeySession": "keyring",
    "TokenVerifier": "authenticators",
    "api_key_auth": "authenticators",
    "bearer_auth": "authenticators",
    "bearer_challenge": "challenge",
    "AnyOf": "combined",
    "any_of": "combined",
    "AccessCheck": "access",
    "Check": "access",
    "CheckFactory": "access",
    "ScopedCheck": "access",
    "get_auth_session": "access",
    "require_all": "access",
    "require_any": "access",
    "require_auth": "access",
    "require_role": "access",
    "require_scopes": "access",
    "roles_of": "access",
    "run_check": "access",
    "scopes_of": "access",
    "DiscoveryDocumentCache": "discovery",
    "DiscoveryError": "discovery",
    "DownstreamTokens": "downstream",
    "DownstreamError": "exchange",
    "OnBehalfOf": "exchange",
    "TokenExchange": "exchange",
    "AuthenticationRequired": "errors",
    "AuthError": "errors",
    "Forbidden": "errors",
    "Unauthorized": "errors",
    "IntrospectionVerifier": "introspection",
    "JWKSet": "jwks",
    "discover_jwks_uri": "jwks",
    "DEFAULT_ALGORITHMS": "jwt",
    "JWTVerifier": "jwt",
    "AuthorizationServerMetadata": "metadata",
    "OAuthSettings": "metadata",
    "ProtectedResourceMetadata": "metadata",
    "authorization_server_metadata_url": "metadata",
    "openid_configuration_url": "metadata",
    "protected_resource_metadata_url": "metadata",
    "Authenticated": "principals",
    "HasSource": "principals",
    "principal_of": "principals",
    "ClaimNames": "claims",
    "TokenSession": "claims",
}


__getattr__ = _exports.lazy_getattr(
    __name__, {k: f".{v}" for k, v in _EXPORTS.items()}, globals()
)


__all__ = sorted(_EXPORTS)
