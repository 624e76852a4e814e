"""Well-known URLs (RFC 9728 section 3.1, RFC 8414 section 3.1), metadata
documents and the ``oauth=`` setting."""

from __future__ import annotations

import pytest

from flask_mcp.auth import AuthorizationServerMetadata
from flask_mcp.auth import OAuthSettings
from flask_mcp.auth import ProtectedResourceMetadata
from flask_mcp.auth import authorization_server_metadata_url
from flask_mcp.auth import openid_configuration_url
from flask_mcp.auth import protected_resource_metadata_url
from flask_mcp.auth.metadata import snake_case


@pytest.mark.parametrize(
    ("resource", "expected"),
    [
        ("https://h/mcp", "https://h/.well-known/oauth-protected-resource/mcp"),
        ("https://h", "https://h/.well-known/oauth-protected-resource"),
        ("https://h/", "https://h/.well-known/oauth-protected-resource"),
        (
            "https://h:8443/a/b/mcp",
            "https://h:8443/.well-known/oauth-protected-resource/a/b/mcp",
        ),
        (
            "https://h/mcp?tenant=1",
            "https://h/.well-known/oauth-protected-resource/mcp?tenant=1",
        ),
        (
            "http://127.0.0.1:5000/mcp",
            "http://127.0.0.1:5000/.well-known/oauth-protected-resource/mcp",
        ),
    ],
)
def test_protected_resource_metadata_url(resource, expected):
    assert protected_resource_metadata_url(resource) == expected


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        (
            "https://as.example",
            "https://as.example/.well-known/oauth-authorization-server",
        ),
        (
            "https://as.example/",
            "https://as.example/.well-known/oauth-authorization-server",
        ),
        (
            "https://as.example/tenant1",
            "https://as.example/.well-known/oauth-authorization-server/tenant1",
        ),
    ],
)
def test_authorization_server_metadata_url(issuer, expected):
    assert authorization_server_metadata_url(issuer) == expected


@pytest.mark.parametrize(
    ("issuer", "expected"),
    [
        ("https://as.example", "https://as.example/.well-known/openid-configuration"),
        ("https://as.example/", "https://as.example/.well-known/openid-configuration"),
        (
            "https://as.example/t1",
            "https://as.example/t1/.well-known/openid-configuration",
        ),
    ],
)
def test_openid_configuration_url(issuer, expected):
    assert openid_configuration_url(issuer) == expected


@pytest.mark.parametrize("bad", ["/mcp", "mcp", "https://h/mcp#frag", ""])
def test_url_helpers_refuse_relative_or_fragment(bad):
    with pytest.raises(ValueError):
        protected_resource_metadata_url(bad)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("jwksUri", "jwks_uri"),
        ("jwksURI", "jwks_uri"),
        ("responseTypesSupported", "response_types_supported"),
        ("authorizationServers", "authorization_servers"),
        ("already_snake", "already_snake"),
        ("enabled", "enabled"),
    ],
)
def test_snake_case(name, expected):
    assert snake_case(name) == expected


CAMEL = {
    "enabled": True,
    "authorizationServer": {
        "issuer": "https://auth.example.com",
        "authorizationEndpoint": "https://auth.example.com/oauth/authorize",
        "tokenEndpoint": "https://auth.example.com/oauth/token",
        "jwksUri": "https://auth.example.com/.well-known/jwks.json",
        "responseTypesSupported": ["code"],
        "codeChallengeMethodsSupported": ["S256"],
    },
    "protectedResource": {
        "authorizationServers": ["https://auth.example.com"],
        "scopesSupported": ["files:read"],
    },
}
SNAKE = {
    "enabled": True,
    "authorization_server": {
        "issuer": "https://auth.example.com",
        "authorization_endpoint": "https://auth.example.com/oauth/authorize",
        "token_endpoint": "https://auth.example.com/oauth/token",
        "jwks_uri": "https://auth.example.com/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    },
    "protected_resource": {
        "authorization_servers": ["https://auth.example.com"],
        "scopes_supported": ["files:read"],
    },
}


@pytest.mark.parametrize("config", [CAMEL, SNAKE], ids=["camelCase", "snake_case"])
def test_oauth_settings_from_config(config):
    settings = OAuthSettings.from_config(config)
    assert settings == OAuthSettings(
        enabled=True,
        authorization_server=SNAKE["authorization_server"],
        protected_resource=SNAKE["protected_resource"],
    )
    document = settings.protected_resource_document("https://mcp.example.com/mcp")
    assert isinstance(document, ProtectedResourceMetadata)
    assert document == {
        "resource": "https://mcp.example.com/mcp",
        "authorization_servers": ["https://auth.example.com"],
        "scopes_supported": ["files:read"],
        "bearer_methods_supported": ["header"],
    }
    document.validate()
    server = settings.authorization_server_document()
    assert isinstance(server, AuthorizationServerMetadata)
    server.validate()
    assert server.jwks_uri == "https://auth.example.com/.well-known/jwks.json"


def test_oauth_settings_defaults_and_explicit_resource():
    settings = OAuthSettings.from_config(
        {
            "enabled": True,
            "authorizationServer": {"issuer": "https://as.example"},
            "protectedResource": {"resource": "mcp://my-server"},
        }
    )
    document = settings.protected_resource_document("https://h/mcp")
    assert document["resource"] == "mcp://my-server"
    assert document["authorization_servers"] == ["https://as.example"]
    assert document["bearer_methods_supported"] == ["header"]
    document["scopes_supported"] = ["changed"]
    assert "scopes_supported" not in settings.protected_resource  # a copy


def test_oauth_settings_off():
    assert OAuthSettings.from_config(None) == OAuthSettings()
    assert OAuthSettings.from_config({}).enabled is False
    assert OAuthSettings.from_config({"protectedResource": {}}).enabled is False
    settings = OAuthSettings(enabled=True)
    assert OAuthSettings.from_config(settings) is settings
    assert settings.authorization_server_document() is None
    assert settings.protected_resource_document("https://h/mcp") == {
        "resource": "https://h/mcp",
        "bearer_methods_supported": ["header"],
    }


@pytest.mark.parametrize(
    "config",
    [
        {"enabld": True},
        {"authorizationServer": "https://as"},
        {"protected_resource": []},
    ],
)
def test_oauth_settings_refuses_bad_config(config):
    with pytest.raises(ValueError):
        OAuthSettings.from_config(config)


@pytest.mark.parametrize(
    "document",
    [
        {},
        {"resource": "http://mcp.example.com/mcp"},
        {"resource": "https://h/mcp#x"},
        {"resource": "https://h/mcp", "authorization_servers": "https://as"},
        {"resource": "https://h/mcp", "authorization_servers": ["http://as.example"]},
        {"resource": "https://h/mcp", "scopes_supported": ["a", 1]},
        {"resource": "https://h/mcp", "bearer_methods_supported": ["cookie"]},
        {
            "resource": "https://h/mcp",
            "resource_signing_alg_values_supported": ["none"],
        },
        {"resource": "https://h/mcp", "dpop_bound_access_tokens_required": "yes"},
        {"resource": "https://h/mcp", "resource_name": 5},
        {"resource": "https://h/mcp", "jwks_uri": "ftp://h/jwks"},
    ],
)
def test_protected_resource_metadata_validation(document):
    with pytest.raises(ValueError):
        ProtectedResourceMetadata(document).validate()


def test_protected_resource_metadata_valid_and_loopback():
    ProtectedResourceMetadata(
        {
            "resource": "http://127.0.0.1:5000/mcp",
            "authorization_servers": ["http://localhost:9000"],
            "bearer_methods_supported": ["header"],
            "resource_name": "Files",
            "resource_documentation": "http://docs.example/mcp",
            "tls_client_certificate_bound_access_tokens": False,
        }
    ).validate()


def test_authorization_server_metadata_requires_s256():
    base = {
        "issuer": "https://as.example",
        "authorization_endpoint": "https://as.example/authorize",
        "token_endpoint": "https://as.example/token",
        "response_types_supported": ["code"],
    }
    with pytest.raises(ValueError, match="S256"):
        AuthorizationServerMetadata(base).validate()
    with pytest.raises(ValueError, match="S256"):
        AuthorizationServerMetadata(
            base | {"code_challenge_methods_supported": ["plain"]}
        ).validate()
    AuthorizationServerMetadata(
        base | {"code_challenge_methods_supported": ["S256"]}
    ).validate()
    with pytest.raises(ValueError, match="issuer"):
        AuthorizationServerMetadata(
            base
            | {
                "issuer": "http://as.example",
                "code_challenge_methods_supported": ["S256"],
            }
        ).validate()
