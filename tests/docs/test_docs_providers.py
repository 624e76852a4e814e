"""The examples of the providers and OAuth proxy guides."""

from __future__ import annotations

import base64
import json
import os
import types
from urllib.parse import parse_qs
from urllib.parse import urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from flask_mcp.auth.providers import GitHubSession
from flask_mcp.auth.providers import GoogleSession
from flask_mcp.auth.providers import MicrosoftSession

KEYS = "flask_mcp_keys"
SECRETS = {
    "GOOGLE_CLIENT_ID": "123.apps.googleusercontent.com",
    "GOOGLE_CLIENT_SECRET": "google-secret",
    "GITHUB_CLIENT_ID": "Iv1.abc",
    "GITHUB_CLIENT_SECRET": "github-secret",
    "MICROSOFT_CLIENT_ID": "00000000-0000-0000-0000-0000000000aa",
    "MICROSOFT_CLIENT_SECRET": "microsoft-secret",
    "MICROSOFT_TENANT_ID": "11111111-1111-1111-1111-111111111111",
    "GITLAB_CLIENT_ID": "gitlab-client",
    "GITLAB_CLIENT_SECRET": "gitlab-secret",
}


class FakeResponse:
    def __init__(self, body):
        self.body = body

    def json(self):
        return self.body

    def raise_for_status(self):
        return None


def _fake_get(monkeypatch, body):
    """Replace requests.get; return the calls made."""
    calls = []

    def get(url, headers=None, timeout=None):
        calls.append((url, headers))
        return FakeResponse(body)

    monkeypatch.setattr("requests.get", get)
    return calls


def _call(mcp, name, session, **arguments):
    """Run a tool's function with ``session`` as its auth session."""
    tool = mcp.registry.tools[name]
    return tool.invoke(arguments, types.SimpleNamespace(session=session))


def _metadata(app, host):
    http = app.test_client()
    base = f"https://{host}"
    server = http.get("/.well-known/oauth-authorization-server", base_url=base)
    resource = http.get("/.well-known/oauth-protected-resource/mcp", base_url=base)
    return server.get_json(), resource.get_json()


def test_google_port(load_example, monkeypatch):
    example = load_example("google", env=SECRETS)
    server, resource = _metadata(example.app, "your-server.com")
    assert server["issuer"] == "https://your-server.com"
    assert server["registration_endpoint"] == "https://your-server.com/oauth/register"
    assert resource["resource"] == "https://your-server.com/mcp"
    provider = example.mcp.proxy.provider
    assert provider.redirect_uri == "https://your-server.com/oauth/callback"
    # No keys configured: generated once in the instance folder.
    assert os.path.isdir(os.path.join(example.app.instance_path, KEYS))

    calls = _fake_get(monkeypatch, {"name": "Ada"})
    session = GoogleSession(subject="1", access_token="google-token")
    assert _call(example.mcp, "get-profile", session) == json.dumps({"name": "Ada"})
    assert calls[0][1] == {"Authorization": "Bearer google-token"}


def test_google_refuses_other_hosts(load_example):
    example = load_example("google", env=SECRETS)
    http = example.app.test_client()
    path = "/.well-known/oauth-protected-resource/mcp"
    assert http.get(path, base_url="https://evil.example").status_code == 403
    # The host of base_url is allowed without MCP_ALLOWED_HOSTS.
    assert http.get(path, base_url="https://your-server.com").status_code == 200


def test_github(load_example, monkeypatch):
    example = load_example("github", env=SECRETS)
    provider = example.mcp.proxy.provider
    url = urlsplit(provider.authorization_url(state="s", code_verifier="v" * 43))
    query = parse_qs(url.query)
    assert url.netloc == "github.com"
    assert query["redirect_uri"] == ["https://mcp.example.com/oauth/callback"]
    assert query["scope"] == ["read:user user:email repo"]
    assert query["code_challenge_method"] == ["S256"]

    _fake_get(monkeypatch, [{"full_name": "ada/engine"}])
    session = GitHubSession(subject="42", access_token="gh-token", login="ada")
    assert _call(example.mcp, "my_repositories", session) == ["ada: ada/engine"]


def test_microsoft(load_example, monkeypatch):
    example = load_example("microsoft", env=SECRETS)
    provider = example.mcp.proxy.provider
    assert provider.issuer == "https://login.microsoftonline.com/organizations/v2.0"
    assert provider.redirect_uri == "https://mcp.example.com/oauth/callback"
    assert provider.allowed_tenants == {SECRETS["MICROSOFT_TENANT_ID"]}

    _fake_get(monkeypatch, {"value": [{"subject": "Standup"}]})
    session = MicrosoftSession(subject="s", access_token="ms-token")
    assert _call(example.mcp, "next_meeting", session) == "Standup"


def test_any_oidc_issuer(load_example, issuer):
    env = {
        "OIDC_ISSUER": issuer.issuer,
        "OIDC_CLIENT_ID": "mcp",
        "OIDC_CLIENT_SECRET": "s",
    }
    example = load_example("oidc", env=env)
    provider = example.mcp.proxy.provider
    url = provider.authorization_url(state="s", code_verifier="v" * 43)
    configuration = provider.metadata()
    assert url.startswith(configuration["authorization_endpoint"] + "?")
    query = parse_qs(urlsplit(url).query)
    assert query["redirect_uri"] == ["https://mcp.example.com/oauth/callback"]
    assert query["scope"] == ["openid email profile offline_access"]
    assert "nonce" in query


def test_explicit_endpoints(load_example):
    example = load_example("oauth_provider", env=SECRETS)
    provider = example.mcp.proxy.provider
    url = urlsplit(provider.authorization_url(state="s", code_verifier="v" * 43))
    assert (url.netloc, url.path) == ("gitlab.example.com", "/oauth/authorize")
    assert provider.name == "gitlab"


@pytest.fixture
def proxy_env():
    key = ec.generate_private_key(ec.SECP256R1())
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return {
        **SECRETS,
        "MCP_SIGNING_KEY_PEM": pem,
        "MCP_ENCRYPTION_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
        "MCP_REGISTRATION_TOKEN": "let-me-register",
    }


def test_proxy_settings(load_example, proxy_env):
    example = load_example("proxy", env=proxy_env)
    server, resource = _metadata(example.app, "mcp.example.com")
    assert server["scopes_supported"] == ["tools:read", "tools:write"]
    assert server["code_challenge_methods_supported"] == ["S256"]
    assert resource["scopes_supported"] == ["tools:read", "tools:write"]
    http = example.app.test_client()
    base = "https://mcp.example.com"
    keys = http.get("/oauth/jwks", base_url=base).get_json()["keys"]
    assert [key["kty"] for key in keys] == ["EC"]
    # Configured keys: nothing generated in the instance folder.
    assert not os.path.exists(os.path.join(example.app.instance_path, KEYS))

    client = {
        "redirect_uris": ["http://127.0.0.1:8123/callback"],
        "client_name": "Desktop client",
        "token_endpoint_auth_method": "none",
    }
    refused = http.post("/oauth/register", json=client, base_url=base)
    assert refused.status_code == 401
    registered = http.post(
        "/oauth/register",
        json=client,
        base_url=base,
        headers={"Authorization": "Bearer let-me-register"},
    )
    assert registered.status_code == 201
    elsewhere = {**client, "redirect_uris": ["https://evil.example/callback"]}
    stranger = http.post(
        "/oauth/register",
        json=elsewhere,
        base_url=base,
        headers={"Authorization": "Bearer let-me-register"},
    )
    assert stranger.status_code == 400
    assert stranger.get_json()["error"] == "invalid_redirect_uri"
