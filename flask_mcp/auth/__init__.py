"""Authentication and authorization building blocks for MCP servers.

Bearer tokens (:rfc:`6750`), JWT access tokens (:rfc:`9068`), token
introspection (:rfc:`7662`), authorization server metadata (:rfc:`8414`) and
protected resource metadata (:rfc:`9728`), plus access checks for tools,
resources and prompts. Nothing here knows about tools or the transport: the
transport calls these.
"""

from __future__ import annotations

import typing as t

from .._exports import lazy_getattr

if t.TYPE_CHECKING:
    from .authenticators import Authenticator as Authenticator
    from .authenticators import TokenVerifier as TokenVerifier
    from .authenticators import api_key_auth as api_key_auth
    from .authenticators import bearer_auth as bearer_auth
    from .challenge import bearer_challenge as bearer_challenge
    from .checks import AccessCheck as AccessCheck
    from .checks import Check as Check
    from .checks import get_auth_session as get_auth_session
    from .checks import require_all as require_all
    from .checks import require_any as require_any
    from .checks import require_auth as require_auth
    from .checks import require_role as require_role
    from .checks import require_scopes as require_scopes
    from .checks import roles_of as roles_of
    from .checks import scopes_of as scopes_of
    from .discovery import DiscoveryDocumentCache as DiscoveryDocumentCache
    from .discovery import DiscoveryError as DiscoveryError
    from .errors import AuthenticationRequired as AuthenticationRequired
    from .errors import AuthError as AuthError
    from .errors import Forbidden as Forbidden
    from .errors import Unauthorized as Unauthorized
    from .introspection import IntrospectionVerifier as IntrospectionVerifier
    from .jwks import JWKSet as JWKSet
    from .jwks import discover_jwks_uri as discover_jwks_uri
    from .jwt import DEFAULT_ALGORITHMS as DEFAULT_ALGORITHMS
    from .jwt import JWTVerifier as JWTVerifier
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
    from .sessions import ClaimNames as ClaimNames
    from .sessions import TokenSession as TokenSession

#: Public name -> submodule. Imported on first use: the JWT, HTTP and
#: authlib dependencies cost every gunicorn worker ~15 MB when unused.
_EXPORTS = {
    "Authenticator": "authenticators",
    "TokenVerifier": "authenticators",
    "api_key_auth": "authenticators",
    "bearer_auth": "authenticators",
    "bearer_challenge": "challenge",
    "AccessCheck": "checks",
    "Check": "checks",
    "get_auth_session": "checks",
    "require_all": "checks",
    "require_any": "checks",
    "require_auth": "checks",
    "require_role": "checks",
    "require_scopes": "checks",
    "roles_of": "checks",
    "scopes_of": "checks",
    "DiscoveryDocumentCache": "discovery",
    "DiscoveryError": "discovery",
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
    "ClaimNames": "sessions",
    "TokenSession": "sessions",
}


__getattr__ = lazy_getattr(
    __name__, {k: f".{v}" for k, v in _EXPORTS.items()}, globals()
)


__all__ = sorted(_EXPORTS)
