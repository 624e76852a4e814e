"""Authentication and authorization building blocks for MCP servers.

Bearer tokens (:rfc:`6750`), JWT access tokens (:rfc:`9068`), token
introspection (:rfc:`7662`), authorization server metadata (:rfc:`8414`) and
protected resource metadata (:rfc:`9728`), plus access checks for tools,
resources and prompts. Nothing here knows about tools or the transport: the
transport calls these.
"""

from __future__ import annotations

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
