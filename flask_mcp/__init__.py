"""flask_mcp: Model Context Protocol servers in Flask, with first-class auth.

The core (server, handlers, content types) is imported eagerly; auth helpers,
providers and the OAuth proxy are imported on first use, so a worker that
does not use them does not pay for their dependencies.
"""

from __future__ import annotations

import typing as t

from . import _exports
from .components.content import Audio
from .components.content import EmbeddedResource
from .components.content import Image
from .components.content import ResourceLink
from .components.content import ToolResult
from .components.prompts import Message
from .components.tools import ToolError
from .errors import FlaskMCPError
from .extension import FlaskMCP
from .protocol.context import Context
from .store import Store
from .store import create_store

if t.TYPE_CHECKING:
    from .auth import DiscoveryDocumentCache as DiscoveryDocumentCache
    from .auth import Forbidden as Forbidden
    from .auth import IntrospectionVerifier as IntrospectionVerifier
    from .auth import JWTVerifier as JWTVerifier
    from .auth import TokenSession as TokenSession
    from .auth import Unauthorized as Unauthorized
    from .auth import any_of as any_of
    from .auth import api_key_auth as api_key_auth
    from .auth import bearer_auth as bearer_auth
    from .auth import get_auth_session as get_auth_session
    from .auth import managed_key_auth as managed_key_auth
    from .auth import require_all as require_all
    from .auth import require_any as require_any
    from .auth import require_auth as require_auth
    from .auth import require_role as require_role
    from .auth import require_scopes as require_scopes
    from .auth.providers import Auth0Provider as Auth0Provider
    from .auth.providers import AzureProvider as AzureProvider
    from .auth.providers import CognitoProvider as CognitoProvider
    from .auth.providers import GitHubProvider as GitHubProvider
    from .auth.providers import GitHubSession as GitHubSession
    from .auth.providers import GitLabProvider as GitLabProvider
    from .auth.providers import GitLabSession as GitLabSession
    from .auth.providers import GoogleProvider as GoogleProvider
    from .auth.providers import GoogleSession as GoogleSession
    from .auth.providers import KeycloakProvider as KeycloakProvider
    from .auth.providers import MicrosoftProvider as MicrosoftProvider
    from .auth.providers import MicrosoftSession as MicrosoftSession
    from .auth.providers import OAuthProvider as OAuthProvider
    from .auth.providers import OAuthSession as OAuthSession
    from .auth.providers import OIDCProvider as OIDCProvider
    from .auth.providers import OktaProvider as OktaProvider
    from .auth.proxy import OAuthProxy as OAuthProxy

_LAZY = {
    **dict.fromkeys(
        [
            "DiscoveryDocumentCache",
            "Forbidden",
            "IntrospectionVerifier",
            "JWTVerifier",
            "TokenSession",
            "Unauthorized",
            "any_of",
            "api_key_auth",
            "bearer_auth",
            "get_auth_session",
            "managed_key_auth",
            "require_all",
            "require_any",
            "require_auth",
            "require_role",
            "require_scopes",
        ],
        ".auth",
    ),
    **dict.fromkeys(
        [
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
        ],
        ".auth.providers",
    ),
    "OAuthProxy": ".auth.proxy",
}


__getattr__ = _exports.lazy_getattr(__name__, _LAZY, globals())


__all__ = [
    "Audio",
    "Context",
    "EmbeddedResource",
    "FlaskMCP",
    "FlaskMCPError",
    "Image",
    "Message",
    "ResourceLink",
    "Store",
    "ToolError",
    "ToolResult",
    "create_store",
    *_LAZY,
]
