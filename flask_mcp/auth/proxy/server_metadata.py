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
from .enterprise import ID_JAG_PROFILE
from .enterprise import JWT_BEARER
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
    issuer: str,
    scopes: Sequence[str],
    *,
    documents: bool,
    client_credentials: bool = False,
    assertions: bool = False,
) -> dict[str, t.Any]:
    """The :rfc:`8414#section-2` document of the proxy at ``issuer``.

    :param documents: whether clients may be identified by a metadata
        document (``client_id_metadata_document_supported``), and so use
        ``private_key_jwt``.
    :param client_credentials: whether the client credentials grant is served.
    :param assertions: whether the JWT bearer grant with ID-JAGs is served
        (``authorization_grant_profiles_supported``, as
        draft-ietf-oauth-identity-assertion-authz-grant section 6.2 asks;
        which IdPs are trusted is never disclosed).
    """
    methods = CLIENT_AUTH_METHODS if documents else REGISTERED_AUTH_METHODS
    grant_types = ["authorization_code", "refresh_token"]
    if client_credentials:
        grant_types.append("client_credentials")
    if assertions:
        grant_types.append(JWT_BEARER)
    document: dict[str, t.Any] = {"issuer": issuer}
    document.update({name: issuer + path for name, path in ENDPOINTS.items()})
    document.update(
        {
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": grant_types,
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
    if assertions:
        document["authorization_grant_profiles_supported"] = [ID_JAG_PROFILE]
    if scopes:
        document["scopes_supported"] = list(scopes)
    return document


def oauth_settings(
    metadata: t.Mapping[str, t.Any], resource: str, scopes: Sequence[str]
) -> OAuthSettings:
    """Both documents, for FlaskMCP's well-known routes and challenges:
    the proxy's ``metadata`` (:func:`server_metadata`) and the protected
    resource document of the endpoint at ``resource``."""
    issuer = metadata["issuer"]
    return OAuthSettings(
        enabled=True,
        authorization_server=dict(metadata),
        protected_resource={
            "resource": resource,
            "authorization_servers": [issuer],
            "scopes_supported": list(scopes),
            "bearer_methods_supported": ["header"],
        },
    )
