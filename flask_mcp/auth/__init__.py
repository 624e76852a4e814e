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
    from .access import get_auth_session as get_auth_session
    from .access import require_all as require_all
    from .access import require_any as require_any
    from .access import require_auth as require_auth
    from .access import require_role as require_role
    from .access import require_scopes as require_scopes
    from .access import roles_of as roles_of
    from .access import scopes_of as scopes_of
    from .authenticators import Authenticator as Authenticator
    from .authenticators import TokenVerifier as TokenVerifier
    from .authenticators import api_key_auth as api_key_auth
    from .authenticators import bearer_auth as bearer_auth
    from .challenge import bearer_challenge as bearer_challenge
    from .claims import ClaimNames as ClaimNames
    from .claims import TokenSession as TokenSession
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

#: Public name -> submodule. Imported on first use: the JWT, HTTP and
#: authlib dependencies cost every gunicorn worker ~15 MB when unused.
_EXPORTS = {
    "Authenticator": "authenticators",
    "TokenVerifier": "authenticators",
    "api_key_auth": "authenticators",
    "bearer_auth": "authenticators",
    "bearer_challenge": "challenge",
    "AccessCheck": "access",
    "Check": "access",
    "get_auth_session": "access",
    "require_all": "access",
    "require_any": "access",
    "require_auth": "access",
    "require_role": "access",
    "require_scopes": "access",
    "roles_of": "access",
    "scopes_of": "access",
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
    "ClaimNames": "claims",
    "TokenSession": "claims",
}


__getattr__ = _exports.lazy_getattr(
    __name__, {k: f".{v}" for k, v in _EXPORTS.items()}, globals()
)


__all__ = sorted(_EXPORTS)
