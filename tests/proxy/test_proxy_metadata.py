"""Discovery: RFC 8414 metadata, the RFC 9728 document, JWKS, the 401 challenge."""

from __future__ import annotations

import pytest

from flask_mcp.auth import AuthorizationServerMetadata
from flask_mcp.auth import ProtectedResourceMetadata
from flask_mcp.auth.proxy import CIMDOptions

from .conftest import BASE_URL
from .conftest import MCP_URL

METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
ALGORITHMS = ["ES256", "RS256", "PS256", "EdDSA"]


def test_authorization_server_metadata(app):
    document = app.test_client().get("/.well-known/oauth-authorization-server").json
    AuthorizationServerMetadata(document).validate()
    assert document == {
        "issuer": BASE_URL,
        "authorization_endpoint": f"{BASE_URL}/oauth/authorize",
        "token_endpoint": f"{BASE_URL}/oauth/token",
        "registration_endpoint": f"{BASE_URL}/oauth/register",
        "revocation_endpoint": f"{BASE_URL}/oauth/revoke",
        "jwks_uri": f"{BASE_URL}/oauth/jwks",
        "scopes_supported": ["mcp:read", "mcp:write"],
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_methods_supported": METHODS,
        "revocation_endpoint_auth_methods_supported": METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
        "revocation_endpoint_auth_signing_alg_values_supported": ALGORITHMS,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "client_id_metadata_document_supported": True,
    }


@pytest.mark.parametrize("how", ["argument", "config"])
def test_metadata_without_client_metadata_documents(make_app, how):
    if how == "argument":
        app = make_app(cimd=CIMDOptions(enabled=False))
    else:
        app = make_app(config={"MCP_OAUTH_CIMD_ENABLED": False})
    document = app.test_client().get("/.well-known/oauth-authorization-server").json
    AuthorizationServerMetadata(document).validate()
    assert "client_id_metadata_document_supported" not in document
    assert "token_endpoint_auth_signing_alg_values_supported" not in document
    registered = ["client_secret_basic", "client_secret_post", "none"]
    assert document["token_endpoint_auth_methods_supported"] == registered
    assert document["revocation_endpoint_auth_methods_supported"] == registered


def test_protected_resource_metadata_points_at_the_proxy(app):
    client = app.test_client()
    for path in (
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-protected-resource",
    ):
        document = client.get(path).json
        ProtectedResourceMetadata(document).validate()
        assert document == {
            "resource": MCP_URL,
            "authorization_servers": [BASE_URL],
            "scopes_supported": ["mcp:read", "mcp:write"],
            "bearer_methods_supported": ["header"],
        }


def test_settings_for_flask_mcp(app):
    settings = app.extensions["mcp_oauth"].endpoints["mcp"].oauth_settings
    assert settings.enabled
    assert settings.protected_resource["resource"] == MCP_URL
    assert settings.authorization_server["issuer"] == BASE_URL


def test_jwks_publishes_public_keys_only(app):
    reply = app.test_client().get("/oauth/jwks")
    assert reply.status_code == 200
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert "public" in reply.headers["Cache-Control"]
    [key] = reply.json["keys"]
    assert key["kty"] == "EC" and key["alg"] == "ES256" and key["use"] == "sig"
    assert key["kid"] and "d" not in key


def test_mcp_endpoint_challenge_names_the_metadata(app):
    reply = app.test_client().post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={"Accept": "application/json, text/event-stream"},
    )
    assert reply.status_code == 401
    challenge = reply.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert (
        'resource_metadata="http://localhost/.well-known/oauth-protected-resource/mcp"'
        in challenge
    )
    assert "error=" not in challenge
