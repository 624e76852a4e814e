"""The examples of the bearer JWT, introspection and discovery guides."""

from __future__ import annotations

import json

import pytest
from docs_helpers import LocalServer
from docs_helpers import post_initialize
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask_mcp.auth import Forbidden
from flask_mcp.testing import MCPError

SERVER_URL = "http://localhost/mcp"


def _env(issuer):
    return {"OAUTH_ISSUER": issuer.issuer, "MCP_SERVER_URL": SERVER_URL}


def _bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_bearer_jwt(load_example, issuer):
    example = load_example("bearer_jwt", env=_env(issuer))
    reader = issuer.mint({"sub": "ada", "aud": SERVER_URL, "scope": "files:read"})
    with example.mcp.test_client(example.app, headers=_bearer(reader)) as client:
        assert sorted(tool["name"] for tool in client.list_tools()) == [
            "delete_file",
            "list_files",
        ]
        files = client.call_tool("list_files")
        assert files["content"][0]["text"] == "/home/ada/notes.txt"
        with pytest.raises(MCPError) as step_up:
            client.call_tool("delete_file", {"path": "/tmp/x"})
        assert step_up.value.status == 403
        response = client._post(
            client._message(
                "tools/call", {"name": "delete_file", "arguments": {"path": "/x"}}
            )
        )
    metadata = "http://localhost/.well-known/oauth-protected-resource/mcp"
    assert response.headers["WWW-Authenticate"] == (
        f'Bearer resource_metadata="{metadata}", scope="files:write",'
        ' error="insufficient_scope",'
        ' error_description="tool delete_file needs more scopes"'
    )


def test_bearer_jwt_challenges(load_example, issuer):
    example = load_example("bearer_jwt", env=_env(issuer))
    http = example.app.test_client()
    anonymous = post_initialize(example.app)
    metadata = "http://localhost/.well-known/oauth-protected-resource/mcp"
    assert anonymous.headers["WWW-Authenticate"] == (
        f'Bearer resource_metadata="{metadata}", scope="files:read files:write"'
    )
    document = http.get("/.well-known/oauth-protected-resource/mcp").get_json()
    assert document == {
        "resource": SERVER_URL,
        "authorization_servers": [issuer.issuer],
        "scopes_supported": ["files:read", "files:write"],
        "bearer_methods_supported": ["header"],
    }
    stranger = issuer.mint({"sub": "ada", "aud": "https://elsewhere.example"})
    with pytest.raises(MCPError) as refused:
        with example.mcp.test_client(example.app, headers=_bearer(stranger)):
            pass
    assert refused.value.status == 401


def test_keycloak_claims(load_example, issuer):
    example = load_example("bearer_keycloak", env=_env(issuer))
    token = issuer.mint(
        {
            "sub": "u-1",
            "aud": SERVER_URL,
            "scope": "mcp profile",
            "email": "ada@example.com",
            "realm_access": {"roles": ["admin"]},
        }
    )
    session = example.verifier.verify(token)
    assert session.roles == {"admin"}
    assert session.email == "ada@example.com"
    without_scope = issuer.mint({"sub": "u-1", "aud": SERVER_URL, "scope": "profile"})
    with pytest.raises(Forbidden) as refused:
        example.verifier.verify(without_scope)
    assert refused.value.scopes == ("mcp",)


def _introspection(request: Request) -> Response:
    assert request.authorization.username == "mcp-server"
    token = request.form["token"]
    active = {
        "active": True,
        "sub": "ada",
        "aud": SERVER_URL,
        "scope": "notes:read",
        "exp": 4102444800,
    }
    body = active if token == "opaque-ada" else {"active": False}
    return Response(json.dumps(body), mimetype="application/json")


def test_introspection(load_example):
    app = Request.application(_introspection)
    with LocalServer(app) as server:
        example = load_example(
            "introspection",
            env={
                "INTROSPECTION_URL": server.url + "/introspect",
                "INTROSPECTION_CLIENT_ID": "mcp-server",
                "INTROSPECTION_CLIENT_SECRET": "s3cret",
                "MCP_SERVER_URL": SERVER_URL,
            },
        )
        headers = _bearer("opaque-ada")
        with example.mcp.test_client(example.app, headers=headers) as client:
            assert client.call_tool("whoami")["content"][0]["text"] == "ada"
        with pytest.raises(MCPError) as refused:
            with example.mcp.test_client(example.app, headers=_bearer("revoked")):
                pass
        assert refused.value.status == 401


def test_discovery_port(load_example, issuer):
    example = load_example("discovery", env=_env(issuer))
    http = example.app.test_client()
    server = http.get("/.well-known/oauth-authorization-server").get_json()
    assert server["issuer"] == issuer.issuer
    assert server["jwks_uri"] == f"{issuer.issuer}/.well-known/jwks.json"
    assert server["response_types_supported"] == ["code"]
    resource = http.get("/.well-known/oauth-protected-resource").get_json()
    assert resource["authorization_servers"] == [issuer.issuer]
    assert resource == http.get("/.well-known/oauth-protected-resource/mcp").get_json()

    # The cache keeps the discovery document in the app's store.
    assert example.discovery_cache.store is example.mcp.state(example.app).store
    token = issuer.mint({"sub": "u-7", "aud": SERVER_URL, "email": "u7@example.com"})
    with example.mcp.test_client(example.app, headers=_bearer(token)) as client:
        assert client.call_tool("whoami")["content"][0]["text"] == "u7@example.com"
    with pytest.raises(MCPError) as refused:
        with example.mcp.test_client(example.app, headers=_bearer("not.a.jwt")):
            pass
    assert refused.value.status == 401
