"""The proxy's discovery documents: :rfc:`8414` server metadata and the
:rfc:`9728` protected resource document that points at it.

FlaskMCP serves both at their well-known URLs from the
:class:`~flask_mcp.auth.OAuthSettings` built here.
"""

from __future__ import annotations

import typing as t
from collections.abc import Sequence

from ..metadata import OAuthSettings
from .cimd.assertion import ASSERTION_ALGORITHMS
from .grants import CLIENT_AUTH_METHODS
from .grants import REGISTERED_AUTH_METHODS

#: Endpoint paths, relative to the issuer (the app's public root URL).
ENDPOINTS = {
    "authorization_endpoint": "/oauth/authorize",
    "token_endpoint": "/oauth/token",
    "registration_endpoint": "/oauth/register",
    "revocation_endpoint": "/oauth/revoke",
    "jwks_uri": "/oauth/jwks",
}


def server_metadata(
    issuer: str, scopes: Sequence[str], *, documents: bool
) -> dict[str, t.Any]:
    """The :rfc:`8414#section-2` document of the proxy at ``issuer``.

    :param documents: whether clients may be identified by a metadata
        document (``client_id_metadata_document_supported``), and so use
        ``private_key_jwt``.
    """
    methods = CLIENT_AUTH_METHODS if documents else REGISTERED_AUTH_METHODS
    document: dict[str, t.Any] = {"issuer": issuer}
    document.update({name: issuer + path for name, path in ENDPOINTS.items()})
    document.update(
        {
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "token_endpoint_auth_methods_supported": list(methods),
            "revocation_endpoint_auth_methods_supported": list(methods),
            "code_challenge_methods_supported": ["S256"],
            # RFC 9207 section 3
            "authorization_response_iss_parameter_supported": True,
        }
    )
    if documents:
        document["client_id_metadata_document_supported"] = True
        for endpoint in ("token_endpoint", "revocation_endpoint"):
            document[f"{endpoint}_auth_signing_alg_values_supported"] = list(
                ASSERTION_ALGORITHMS
            )
    if scopes:
        document["scopes_supported"] = list(scopes)
    return document


def oauth_settings(
    issuer: str, resource: str, scopes: Sequence[str], *, documents: bool
) -> OAuthSettings:
    """Both documents, for FlaskMCP's well-known routes and challenges."""
    return OAuthSettings(
        enabled=True,
        authorization_server=server_metadata(issuer, scopes, documents=documents),
        protected_resource={
            "resource": resource,
            "authorization_servers": [issuer],
            "scopes_supported": list(scopes),
            "bearer_methods_supported": ["header"],
        },
    )
