"""``ProxyState.authenticate``: only our own tokens for this MCP endpoint, of a
live grant; the session carries the (refreshed) upstream tokens."""

from __future__ import annotations

import base64
import json
import time

import pytest
from flask import request
from joserfc import jwt
from joserfc.jwk import ECKey
from joserfc.jwk import OctKey
from joserfc.jws import extract_compact

from flask_mcp.auth import Unauthorized

from .conftest import BASE_URL
from .conftest import MCP_URL

INIT = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "t", "version": "1"},
    },
}


def claims_of(token):
    return json.loads(extract_compact(token.encode()).payload)


def sign(app, claims, header=None, key=None):
    """A token signed with the proxy's own current key (unless ``key``)."""
    state = app.extensions["mcp_oauth"]
    key = key or state.keys.current
    header = {"alg": "ES256", "typ": "at+jwt", "kid": key.kid, **(header or {})}
    return jwt.encode(header, claims, key, algorithms=[header["alg"]])


def refused(flow, token, text="invalid_token"):
    reply = flow.whoami(token)
    assert reply.status == 401, reply.text
    assert text in reply.headers["WWW-Authenticate"]
    return reply


def test_session_of_a_valid_token(flow):
    tokens = flow.tokens(scope="mcp:read mcp:write")
    reply = flow.whoami(tokens["access_token"])
    assert reply.status == 200
    me = reply.json()
    assert me["subject"] == "johndoe"
    assert me["email"] == "john@example.com" and me["name"] == "John Doe"
    assert me["client_id"] == tokens["client"]["client_id"]
    assert me["scopes"] == ["mcp:read", "mcp:write"]
    # Tools get the upstream tokens, clients never do.
    upstream_token = me["upstream_access_token"]
    assert upstream_token and upstream_token != tokens["access_token"]
    assert upstream_token not in json.dumps(tokens)


def test_mcp_endpoint(flow, app):
    tokens = flow.tokens()
    client = app.test_client()
    headers = {"Accept": "application/json, text/event-stream"}
    ok = client.post(
        "/mcp",
        json=INIT,
        headers={**headers, "Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert ok.status_code == 200, ok.get_data(True)
    bad = client.post(
        "/mcp", json=INIT, headers={**headers, "Authorization": "Bearer x.y.z"}
    )
    assert bad.status_code == 401
    assert 'error="invalid_token"' in bad.headers["WWW-Authenticate"]
    assert "resource_metadata=" in bad.headers["WWW-Authenticate"]


def test_no_credentials(flow, app):
    reply = flow.get("/whoami")
    assert reply.status == 401
    assert "error=" not in reply.headers["WWW-Authenticate"]
    proxy = app.extensions["mcp_oauth"].endpoints["mcp"]
    with app.test_request_context("/whoami"):
        assert proxy.authenticate(request) is None
    with app.test_request_context("/whoami", headers={"Authorization": "Basic x"}):
        assert proxy.authenticate(request) is None
    with app.test_request_context("/whoami", headers={"Authorization": "Bearer x"}):
        with pytest.raises(Unauthorized) as caught:
            proxy.authenticate(request)
        assert caught.value.error == "invalid_token"


def test_query_parameter_tokens_are_refused(flow):
    tokens = flow.tokens()
    reply = flow.get("/whoami", query_string={"access_token": tokens["access_token"]})
    assert reply.status == 401
    assert 'error="invalid_request"' in reply.headers["WWW-Authenticate"]


def valid_claims(app, flow, **overrides):
    tokens = flow.tokens()
    claims = claims_of(tokens["access_token"])
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def test_our_token_for_another_audience(flow, app):
    for audience in (
        "http://localhost/other-mcp",
        "https://elsewhere.example/mcp",
        ["https://elsewhere.example/mcp"],
    ):
        refused(flow, sign(app, valid_claims(app, flow, aud=audience)))


def test_our_own_signature_checks_work(flow, app):
    """The signing helper makes tokens that pass: the refusals below are real."""
    assert flow.whoami(sign(app, valid_claims(app, flow))).status == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"iss": "https://evil.example"},
        {"exp": int(time.time()) - 10},
        {"exp": None},
        {"sub": None},
        {"client_id": None},
        {"jti": None},
        {"iat": None},
        {"sid": None},
        {"sid": "no-such-grant"},
        {"client_id": "another-client"},
        {"sub": "someone-else"},
    ],
)
def test_bad_claims(flow, app, overrides):
    refused(flow, sign(app, valid_claims(app, flow, **overrides)))


@pytest.mark.parametrize(
    "header",
    [{"typ": "JWT"}, {"typ": None}, {"kid": "unknown"}, {"kid": None}],
)
def test_bad_headers(flow, app, header):
    claims = valid_claims(app, flow)
    token = sign(app, claims, {k: v for k, v in header.items() if v is not None})
    if None in header.values():  # remove the member
        name = next(k for k, v in header.items() if v is None)
        state = app.extensions["mcp_oauth"]
        full = {"alg": "ES256", "typ": "at+jwt", "kid": state.keys.current.kid}
        del full[name]
        token = jwt.encode(full, claims, state.keys.current)
    refused(flow, token)


def test_foreign_key_with_our_kid(flow, app):
    state = app.extensions["mcp_oauth"]
    forged = ECKey.generate_key("P-256", private=True)
    forged_header = {"alg": "ES256", "typ": "at+jwt", "kid": state.keys.current.kid}
    token = jwt.encode(forged_header, valid_claims(app, flow), forged)
    refused(flow, token)


def test_symmetric_and_none_algorithms(flow, app):
    state = app.extensions["mcp_oauth"]
    claims = valid_claims(app, flow)
    public = json.dumps(state.keys.public_jwks()["keys"][0])
    hs = jwt.encode(
        {"alg": "HS256", "typ": "at+jwt", "kid": state.keys.current.kid},
        claims,
        OctKey.import_key(public),
        algorithms=["HS256"],
    )
    refused(flow, hs)
    head = {"alg": "none", "typ": "at+jwt", "kid": state.keys.current.kid}
    segments = [json.dumps(head).encode(), json.dumps(claims).encode()]
    unsigned = ".".join(
        base64.urlsafe_b64encode(s).rstrip(b"=").decode() for s in segments
    )
    refused(flow, unsigned + ".")


def test_tampered_token(flow):
    token = flow.tokens()["access_token"]
    head, payload, signature = token.split(".")
    claims = claims_of(token)
    claims["scope"] = "mcp:read mcp:write"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    refused(flow, f"{head}.{forged}.{signature}")


def test_no_passthrough_of_upstream_tokens(flow, upstream):
    tokens = flow.tokens()
    upstream_token = flow.whoami(tokens["access_token"]).json()["upstream_access_token"]
    refused(flow, upstream_token)
    # Even an upstream token dressed as ours: right iss, aud, typ, claims.
    claims = claims_of(tokens["access_token"])
    disguised = upstream.mint(
        {**claims, "iss": BASE_URL, "aud": MCP_URL}, header={"typ": "at+jwt"}
    )
    refused(flow, disguised)


def test_token_of_another_proxy_instance(flow, make_app, make_flow):
    """Another deployment (own keys) for the same URL: its tokens are not ours."""
    other = make_flow(make_app())
    refused(flow, other.tokens()["access_token"])


def test_upstream_tokens_refreshed_when_expiring(flow, upstream):
    upstream.config(expires_in=5)  # inside the refresh margin: stale at once
    tokens = flow.tokens()
    upstream.config(expires_in=None)
    before = upstream.stats()["token"].get("refresh_token", 0)
    first = flow.whoami(tokens["access_token"]).json()
    assert upstream.stats()["token"]["refresh_token"] == before + 1
    assert first["upstream_expires_at"] > time.time() + 3000
    second = flow.whoami(tokens["access_token"]).json()
    assert upstream.stats()["token"]["refresh_token"] == before + 1
    assert second["upstream_access_token"] == first["upstream_access_token"]


def test_upstream_refresh_refused_ends_the_grant(flow, upstream):
    upstream.config(expires_in=5)
    tokens = flow.tokens()
    upstream.next_token_error("invalid_grant")
    refused(flow, tokens["access_token"], "upstream authorization has expired")
    upstream.config(expires_in=None)
    refused(flow, tokens["access_token"], "revoked")
    assert flow.refresh(tokens["client"], tokens["refresh_token"]).status == 400


def test_upstream_refresh_failing_transiently_keeps_the_grant(flow, upstream):
    upstream.config(expires_in=5)
    tokens = flow.tokens()
    upstream.next_token_error("temporarily_unavailable")
    refused(flow, tokens["access_token"], "upstream authorization has expired")
    upstream.config(expires_in=None)
    assert flow.whoami(tokens["access_token"]).status == 200
