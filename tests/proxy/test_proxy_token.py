"""The token endpoint: code redemption (PKCE, redirect URI, client), refresh
rotation with reuse detection, client authentication, resource indicators."""

from __future__ import annotations

import json

import pytest
from joserfc.jws import extract_compact

from .conftest import BASE_URL
from .conftest import MCP_URL
from .flow import pkce


def jwt_parts(token):
    compact = extract_compact(token.encode())
    return compact.headers(), json.loads(compact.payload)


def error_of(reply, status=400):
    assert reply.status == status, reply.text
    assert reply.headers["Cache-Control"] == "no-store"
    return reply.json()["error"]


def alive(flow, access_token):
    return flow.whoami(access_token).status == 200


def test_code_exchange(flow, app):
    login = flow.login()
    reply = flow.token(login)
    assert reply.status == 200
    assert reply.headers["Cache-Control"] == "no-store"
    assert reply.headers["Pragma"] == "no-cache"
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    body = reply.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["scope"] == "mcp:read"
    assert len(body["refresh_token"]) >= 43 and "." not in body["refresh_token"]
    header, claims = jwt_parts(body["access_token"])
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256"
    jwks = app.test_client().get("/oauth/jwks").json
    assert header["kid"] == jwks["keys"][0]["kid"]
    assert claims["iss"] == BASE_URL
    assert claims["aud"] == MCP_URL
    assert claims["sub"] == "johndoe"
    assert claims["client_id"] == login.client["client_id"]
    assert claims["scope"] == "mcp:read"
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["jti"] and claims["sid"]
    assert alive(flow, body["access_token"])


def test_scope_defaults_to_the_servers_scopes(flow):
    tokens = flow.tokens(scope=None)
    assert tokens["scope"] == "mcp:read mcp:write"


def test_token_ttl_setting(make_app, make_flow):
    flow = make_flow(make_app(access_token_ttl=120))
    tokens = flow.tokens()
    assert tokens["expires_in"] == 120
    claims = jwt_parts(tokens["access_token"])[1]
    assert claims["exp"] - claims["iat"] == 120


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"code_verifier": pkce()[0]}, "invalid_grant"),  # wrong verifier
        ({"code_verifier": None}, "invalid_request"),  # missing
        ({"code_verifier": "too-short"}, "invalid_request"),
        ({"redirect_uri": "http://127.0.0.1:8765/other"}, "invalid_grant"),
        ({"redirect_uri": None}, "invalid_grant"),
        ({"code": "not-a-code"}, "invalid_grant"),
        ({"resource": "https://other.example.com/mcp"}, "invalid_target"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
    ],
)
def test_refused_redemptions(flow, form, error):
    login = flow.login()
    assert error_of(flow.token(login, **form)) == error


def test_failed_redemption_spends_the_code(flow):
    login = flow.login()
    assert error_of(flow.token(login, code_verifier=pkce()[0])) == "invalid_grant"
    assert error_of(flow.token(login)) == "invalid_grant"


def test_resource_naming_this_server_is_fine(flow):
    login = flow.login()
    assert flow.token(login, resource=MCP_URL).status == 200


def test_code_replay_revokes_what_it_issued(flow, upstream):
    login = flow.login()
    first = flow.token(login).json()
    upstream_refresh = flow.whoami(first["access_token"]).json()[
        "upstream_refresh_token"
    ]
    assert error_of(flow.token(login)) == "invalid_grant"
    assert flow.whoami(first["access_token"]).status == 401
    assert (
        error_of(flow.refresh(login.client, first["refresh_token"])) == "invalid_grant"
    )
    assert upstream_refresh in upstream.stats()["revoked"]


def test_code_redeemed_by_another_client(flow):
    login = flow.login()
    thief = flow.register()
    stolen = dict(login.__dict__, client=thief)
    from .flow import Login

    assert error_of(flow.token(Login(**stolen))) == "invalid_grant"
    # The code is spent and its grant ended: the rightful client gets nothing.
    assert error_of(flow.token(login)) == "invalid_grant"


def test_unknown_client(flow):
    login = flow.login()
    reply = flow.token(login, client_id="nobody")
    assert error_of(reply, 401) == "invalid_client"


@pytest.fixture
def confidential(flow):
    return flow.register(token_endpoint_auth_method="client_secret_basic")


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_confidential_client(flow, method):
    client = flow.register(token_endpoint_auth_method=method)
    assert client["client_secret"]
    tokens = flow.tokens(client)
    assert alive(flow, tokens["access_token"])
    reply = flow.refresh(client, tokens["refresh_token"])
    assert reply.status == 200


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
def test_wrong_client_secret(flow, method):
    client = flow.register(token_endpoint_auth_method=method)
    login = flow.login(client)
    secret = client["client_secret"]
    wrong = dict(
        client, client_secret=secret[:-1] + ("1" if secret[-1] == "0" else "0")
    )
    login.client = wrong
    reply = flow.token(login)
    assert error_of(reply, 401) == "invalid_client"
    if method == "client_secret_basic":
        assert reply.headers["WWW-Authenticate"].startswith("Basic ")


def test_confidential_client_without_its_secret(flow, confidential):
    login = flow.login(confidential)
    login.client = {k: v for k, v in confidential.items() if k != "client_secret"}
    assert error_of(flow.token(login), 401) == "invalid_client"


def test_public_client_cannot_send_a_secret(flow):
    login = flow.login()
    assert error_of(flow.token(login, client_secret="guess"), 401) == "invalid_client"


def test_no_refresh_token_without_the_grant_type(flow):
    client = flow.register(grant_types=["authorization_code"])
    tokens = flow.tokens(client)
    assert "refresh_token" not in tokens


def test_refresh_rotation(flow):
    tokens = flow.tokens()
    client = tokens["client"]
    reply = flow.refresh(client, tokens["refresh_token"])
    assert reply.status == 200 and reply.headers["Cache-Control"] == "no-store"
    rotated = reply.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert rotated["access_token"] != tokens["access_token"]
    assert (
        jwt_parts(rotated["access_token"])[1]["sid"]
        == jwt_parts(tokens["access_token"])[1]["sid"]
    )
    assert alive(flow, rotated["access_token"])
    assert flow.refresh(client, rotated["refresh_token"]).status == 200


def test_refresh_reuse_revokes_the_family(flow, upstream, later):
    tokens = flow.tokens()
    client = tokens["client"]
    rotated = flow.refresh(client, tokens["refresh_token"]).json()
    upstream_refresh = flow.whoami(rotated["access_token"]).json()[
        "upstream_refresh_token"
    ]
    # Within the grace period a second refresh gets the same pair...
    again = flow.refresh(client, tokens["refresh_token"])
    assert again.status == 200 and again.json() == rotated
    assert alive(flow, rotated["access_token"])
    # ...after it, the reuse ends the family.
    later(5.5)
    assert error_of(flow.refresh(client, tokens["refresh_token"])) == "invalid_grant"
    assert not alive(flow, rotated["access_token"])
    assert not alive(flow, tokens["access_token"])
    assert error_of(flow.refresh(client, rotated["refresh_token"])) == "invalid_grant"
    assert upstream_refresh in upstream.stats()["revoked"]


def test_refresh_by_another_client_revokes_the_family(flow):
    tokens = flow.tokens()
    thief = flow.register()
    assert error_of(flow.refresh(thief, tokens["refresh_token"])) == "invalid_grant"
    assert not alive(flow, tokens["access_token"])


def test_refresh_scope_narrowing(flow):
    tokens = flow.tokens(scope="mcp:read mcp:write")
    client = tokens["client"]
    narrow = flow.refresh(client, tokens["refresh_token"], scope="mcp:read").json()
    assert narrow["scope"] == "mcp:read"
    assert jwt_parts(narrow["access_token"])[1]["scope"] == "mcp:read"
    # The rotated refresh token still carries the whole grant.
    full = flow.refresh(client, narrow["refresh_token"]).json()
    assert full["scope"] == "mcp:read mcp:write"
    wider = flow.refresh(client, full["refresh_token"], scope="mcp:read admin")
    assert error_of(wider) == "invalid_scope"


def test_refresh_with_foreign_resource(flow):
    tokens = flow.tokens()
    reply = flow.refresh(
        tokens["client"], tokens["refresh_token"], resource="https://other.example/mcp"
    )
    assert error_of(reply) == "invalid_target"


def test_unknown_refresh_token(flow):
    client = flow.register()
    assert error_of(flow.refresh(client, "made-up")) == "invalid_grant"


@pytest.mark.parametrize(
    "form",
    [
        {"scope": "mcp:read admin"},
        {"resource": "https://other.example/mcp"},
        {"client_id": "nobody"},
    ],
)
def test_refused_refresh_does_not_spend_the_token(flow, form):
    tokens = flow.tokens()
    assert flow.refresh(tokens["client"], tokens["refresh_token"], **form).status >= 400
    assert flow.refresh(tokens["client"], tokens["refresh_token"]).status == 200
    assert alive(flow, tokens["access_token"])


@pytest.mark.parametrize(
    "form",
    [
        {"code_verifier": pkce()[0]},
        {"redirect_uri": "http://127.0.0.1:8765/other"},
        {"resource": "https://other.example.com/mcp"},
    ],
)
def test_failed_redemption_ends_the_grant_upstream_too(flow, upstream, form):
    login = flow.login()
    revoked = len(upstream.stats()["revoked"])
    assert flow.token(login, **form).status == 400
    assert len(upstream.stats()["revoked"]) == revoked + 1
