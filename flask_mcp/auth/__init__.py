"""Authentication and authorization building blocks for MCP servers.

Bearer tokens (:rfc:`6750`), JWT access tokens (:rfc:`9068`), token
introspection (:rfc:`7662`), authorization server metadata (:rfc:`8414`) and
protected resource metadata (:rfc:`9728`), plus access checks for tools,
resources and prompts. Nothing here knows about tools or the transport: the
transport calls these.
"""

from __future__ import annotations

import importlib
import typing as t

if t.TYPE_CHECKING:
    from .authenticators import Authenticator
    from .authenticators import TokenVerifier
    from .authenticators import api_key_auth
    from .authenticators import bearer_auth
    from .challenge import bearer_challenge
    from .checks import AccessCheck
    from .checks import Check
    from .checks import get_auth_session
    from .checks import require_all
    from .checks import require_any
    from .checks import require_auth
    from .checks import require_role
    from .checks import require_scopes
    from .checks import roles_of
    from .checks import scopes_of
    from .discovery import DiscoveryDocumentCache
    from .discovery import DiscoveryError
    from .errors import AuthenticationRequired
    from .errors import AuthError
    from .errors import Forbidden
    from .errors import Unauthorized
    from .introspection import IntrospectionVerifier
    from .jwks import JWKSet
    from .jwks import discover_jwks_uri
    from .jwt import DEFAULT_ALGORITHMS
    from .jwt import JWTVerifier
    from .metadata import AuthorizationServerMetadata
    from .metadata import OAuthSettings
    from .metadata import ProtectedResourceMetadata
    from .metadata import authorization_server_metadata_url
    from .metadata import openid_configuration_url
    from .metadata import protected_resource_metadata_url
    from .sessions import ClaimNames
    from .sessions import TokenSession

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


def __getattr__(name: str) -> t.Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_ALGORITHMS",
    "AccessCheck",
    "AuthError",
    "AuthenticationRequired",
    "Authenticator",
    "AuthorizationServerMetadata",
    "Check",
    "ClaimNames",
    "DiscoveryDocumentCache",
    "DiscoveryError",
    "Forbidden",
    "IntrospectionVerifier",
    "JWKSet",
    "JWTVerifier",
    "OAuthSettings",
    "ProtectedResourceMetadata",
    "TokenSession",
    "TokenVerifier",
    "Unauthorized",
    "api_key_auth",
    "authorization_server_metadata_url",
    "bearer_auth",
    "bearer_challenge",
    "discover_jwks_uri",
    "get_auth_session",
    "openid_configuration_url",
    "protected_resource_metadata_url",
    "require_all",
    "require_any",
    "require_auth",
    "require_role",
    "require_scopes",
    "roles_of",
    "scopes_of",
]
