"""Machine clients: the client credentials grant, off by default, for
confidential clients registered with the registration token, for the scopes
they registered."""

from __future__ import annotations

import base64
import typing as t

import pytest

from .conftest import MCP_URL
from .test_proxy_authenticate import INIT
from .test_proxy_enterprise import claims_of
from .test_proxy_enterprise import refused

TOKEN = "operator-registration-token"
HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture
def app(make_app):
    return make_app(client_credentials=True, registration_token=TOKEN)


@pytest.fixture
def http(app):
    return app.test_client()


def register(http, **metadata: t.Any) -> dict[str, t.Any]:
    body = {
        "client_name": "nightly build",
        "grant_types": ["client_credentials"],
        "token_endpoint_auth_method": "client_secret_basic",
        "scope": "mcp:read",
        **metadata,
    }
    body = {k: v for k, v in body.items() if v is not None}
    reply = http.post(
        "/oauth/register", json=body, headers={"Authorization": f"Bearer {TOKEN}"}
    )
    assert reply.status_code == 201, reply.text
    return t.cast(dict[str, t.Any], reply.json)


def basic(client) -> dict[str, str]:
    raw = f"{client['client_id']}:{client['client_secret']}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def token(http, client, **form: t.Any):
    data = {"grant_type": "client_credentials", **form}
    return http.post("/oauth/token", data=data, headers=basic(client))


def test_a_machine_client_gets_a_token_for_itself(http, issued):
    client = register(http)
    reply = token(http, client)
    assert reply.status_code == 200, reply.text
    tokens = reply.json
    assert "refresh_token" not in tokens
    assert tokens["scope"] == "mcp:read"
    claims = claims_of(tokens["access_token"])
    assert claims["sub"] == claims["client_id"] == client["client_id"]
    assert claims["aud"] == MCP_URL and claims["scope"] == "mcp:read"
    assert issued() == ["client_credentials"]
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (
        http.post("/mcp", json=INIT, headers={**HEADERS, **bearer}).status_code == 200
    )
    me = http.get("/whoami", headers=bearer).json
    assert me["subject"] == client["client_id"]
    assert me["scopes"] == ["mcp:read"]
    # Revocation ends it.
    revoked = http.post(
        "/oauth/revoke", data={"token": tokens["access_token"]}, headers=basic(client)
    )
    assert revoked.status_code == 200
    assert http.get("/whoami", headers=bearer).status_code == 401


def test_scopes_are_limited_to_the_registration(http, issued):
    client = register(http, scope="mcp:read mcp:write")
    assert token(http, client, scope="mcp:write").json["scope"] == "mcp:write"
    assert token(http, client).json["scope"] == "mcp:read mcp:write"
    narrow = register(http, scope="mcp:read")
    refused(token(http, narrow, scope="mcp:write"), "invalid_scope", words="mcp:write")
    # Beyond the registration, the rest is left out (the official client asks
    # for every scope the server advertises).
    partly = token(http, narrow, scope="mcp:read mcp:write")
    assert partly.json["scope"] == "mcp:read"
    assert claims_of(partly.json["access_token"])["scope"] == "mcp:read"
    refused(token(http, narrow, scope="admin"), "invalid_scope")
    # Registered without scope: a token without scope, never the defaults.
    bare = register(http, scope=None)
    reply = token(http, bare)
    assert reply.json["scope"] == ""
    assert claims_of(reply.json["access_token"])["scope"] == ""
    refused(token(http, bare, scope="mcp:read"), "invalid_scope")
    assert len(issued()) == 4


def test_refusals(http, issued):
    client = register(http)
    refused(token(http, {**client, "client_secret": "wrong"}), "invalid_client", 401)
    refused(
        http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": client["client_id"]},
        ),
        "invalid_client",
        401,
    )
    refused(token(http, client, resource="https://other.example/mcp"), "invalid_target")
    # A confidential client that registered another grant.
    coded = register(
        http,
        grant_types=["authorization_code"],
        redirect_uris=["http://127.0.0.1:9/cb"],
    )
    refused(token(http, coded), "unauthorized_client")
    assert issued() == []


def test_public_clients_cannot_register_it(http):
    reply = http.post(
        "/oauth/register",
        json={
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "none",
        },
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert reply.status_code == 400
    assert "confidential" in reply.json["error_description"]


def test_registration_needs_the_token(http):
    reply = http.post(
        "/oauth/register",
        json={"grant_types": ["client_credentials"], "scope": "mcp:read"},
    )
    assert reply.status_code == 401


def test_off_by_default(make_app, issued):
    http = make_app(registration_token=TOKEN).test_client()
    metadata = http.get("/.well-known/oauth-authorization-server").json
    assert "client_credentials" not in metadata["grant_types_supported"]
    reply = http.post(
        "/oauth/register",
        json={"grant_types": ["client_credentials"], "scope": "mcp:read"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert reply.status_code == 400
    refused(
        http.post("/oauth/token", data={"grant_type": "client_credentials"}),
        "unsupported_grant_type",
    )
    assert issued() == []


def test_advertised_when_on(http):
    metadata = http.get("/.well-known/oauth-authorization-server").json
    assert "client_credentials" in metadata["grant_types_supported"]


def test_on_without_registration_token_is_an_error(make_app):
    with pytest.raises(ValueError, match="needs a registration_token"):
        make_app(client_credentials=True)
    with pytest.raises(ValueError, match="needs a registration_token"):
        make_app(config={"MCP_OAUTH_CLIENT_CREDENTIALS": True})


def test_on_from_the_app_config(make_app):
    http = make_app(
        config={"MCP_OAUTH_CLIENT_CREDENTIALS": True}, registration_token=TOKEN
    ).test_client()
    assert token(http, register(http)).status_code == 200


@pytest.mark.parametrize("redirect_uri", [None, "http://127.0.0.1:9/cb"])
def test_a_machine_client_has_no_authorization_requests(http, redirect_uri):
    """It registered no redirect URI and no code grant: the browser gets the
    error page, never a redirect."""
    client = register(http)
    query = {
        "response_type": "code",
        "client_id": client["client_id"],
        "code_challenge": "x" * 43,
        "code_challenge_method": "S256",
        "redirect_uri": redirect_uri,
    }
    page = http.get(
        "/oauth/authorize", query_string={k: v for k, v in query.items() if v}
    )
    assert page.status_code == 400
    assert page.mimetype == "text/html"
    assert "Location" not in page.headers
