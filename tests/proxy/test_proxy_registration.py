"""Dynamic client registration (RFC 7591) and its refusals."""

from __future__ import annotations

import hashlib

import pytest

from .flow import REDIRECT_URI


def register(flow, body, headers=None):
    return flow.post("/oauth/register", json=body, headers=headers or {})


def test_public_client(flow, app):
    client = flow.register()
    assert client["token_endpoint_auth_method"] == "none"
    assert "client_secret" not in client
    assert "client_secret_expires_at" not in client
    assert client["redirect_uris"] == [REDIRECT_URI]
    assert client["grant_types"] == ["authorization_code", "refresh_token"]
    assert client["client_name"] == "Test Client"
    assert client["client_id_issued_at"] > 0


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post", None])
def test_confidential_client_secret_stored_hashed(flow, app, method):
    body = {"redirect_uris": ["https://app.example.com/cb"]}
    if method:
        body["token_endpoint_auth_method"] = method
    reply = register(flow, body)
    assert reply.status == 201, reply.text
    client = reply.json()
    assert client["token_endpoint_auth_method"] == (method or "client_secret_basic")
    assert client["grant_types"] == ["authorization_code"]
    assert client["client_secret_expires_at"] == 0
    secret = client["client_secret"]
    state = app.extensions["mcp_oauth"]
    record = state.storage.store.get(f"client:{client['client_id']}")
    assert record["secret_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in repr(record)


def test_cors_and_no_store(flow):
    reply = register(flow, {"redirect_uris": [REDIRECT_URI]})
    assert reply.headers["Access-Control-Allow-Origin"] == "*"
    assert reply.headers["Cache-Control"] == "no-store"
    preflight = flow.http.request("OPTIONS", "/oauth/register")
    assert preflight.status == 204
    assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]


@pytest.mark.parametrize(
    ("uris", "reason"),
    [
        (["http://app.example.com/cb"], "loopback hosts only"),
        (["http://localhost@evil.com/cb"], "userinfo"),
        (["https://app.example.com/cb#frag"], "fragment"),
        (["https://app.example.com/ok", "javascript:alert(1)"], "https"),
        (["com.example.app:/cb"], "https"),
        ([], "non-empty array"),
        ("https://app.example.com/cb", "non-empty array"),
        ([42], "non-empty string"),
        (["https://app.example.com/cb/../../evil"], "dot-segments"),
        (["https://app.example.com/cb/%2e%2e/evil"], "dot-segments"),
        (["https://app.example.com/cb%2f..%2fevil"], "encoded slash"),
    ],
)
def test_bad_redirect_uris(flow, uris, reason):
    reply = register(flow, {"redirect_uris": uris})
    assert reply.status == 400
    body = reply.json()
    assert body["error"] == "invalid_redirect_uri"
    assert reason in body["error_description"]


def test_missing_redirect_uris(flow):
    reply = register(flow, {"client_name": "x"})
    assert reply.status == 400
    assert reply.json()["error"] == "invalid_redirect_uri"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("token_endpoint_auth_method", "private_key_jwt"),
        ("grant_types", ["implicit"]),
        ("grant_types", ["refresh_token"]),
        ("response_types", ["token"]),
        ("scope", "admin"),
        ("scope", "mcp:read admin"),
        ("client_name", {"not": "a string"}),
        ("client_name", "x" * 101),
        ("client_uri", "not a url"),
    ],
)
def test_invalid_client_metadata(flow, field, value):
    reply = register(flow, {"redirect_uris": [REDIRECT_URI], field: value})
    assert reply.status == 400, reply.text
    assert reply.json()["error"] == "invalid_client_metadata"


def test_scope_within_the_supported_ones(flow):
    reply = register(flow, {"redirect_uris": [REDIRECT_URI], "scope": "mcp:write"})
    assert reply.status == 201
    assert reply.json()["scope"] == "mcp:write"


@pytest.mark.parametrize("body", [b"not json", b"[1, 2]", b""])
def test_not_a_json_object(flow, body):
    reply = flow.post(
        "/oauth/register", data=body, headers={"Content-Type": "application/json"}
    )
    assert reply.status == 400
    assert reply.json()["error"] == "invalid_request"


def test_allow_list(make_app, make_flow):
    app = make_app(redirect_uri_patterns=["https://app.example.com/*"])
    flow = make_flow(app)
    assert (
        register(flow, {"redirect_uris": ["https://app.example.com/cb"]}).status == 201
    )
    for uri in ("https://app.example.com/../evil", "https://app.example.com/%2E./x"):
        reply = register(flow, {"redirect_uris": [uri]})
        assert reply.json()["error"] == "invalid_redirect_uri"
        assert "dot-segments" in reply.json()["error_description"]
    for uri in ("https://appXexample.com/cb", "https://app.example.com.evil.com/"):
        reply = register(flow, {"redirect_uris": [uri]})
        assert reply.status == 400
        assert reply.json() == {
            "error": "invalid_redirect_uri",
            "error_description": "the redirect URI is not on this server's allow-list",
        }


def test_initial_access_token(make_app, make_flow):
    flow = make_flow(make_app(registration_token="let-me-in"))
    body = {"redirect_uris": [REDIRECT_URI], "token_endpoint_auth_method": "none"}
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic x"},
    ):
        reply = register(flow, body, headers)
        assert reply.status == 401
        assert reply.json()["error"] == "invalid_token"
        assert reply.headers["WWW-Authenticate"].startswith("Bearer ")
    reply = register(flow, body, {"Authorization": "Bearer let-me-in"})
    assert reply.status == 201
