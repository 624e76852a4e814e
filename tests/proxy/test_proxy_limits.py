"""Bounded OAuth endpoints: request bodies, registration contents, the
registration rate per address, and registrations that are never used."""

from __future__ import annotations

import time

import pytest
from joserfc.jwk import ECKey

from flask_mcp.auth.proxy.limits import OAuthLimits
from flask_mcp.auth.proxy.storage import CLIENT_TTL

from .flow import REDIRECT_URI
from .flow import pkce
from .test_proxy_authorize import assert_page

DAY = 86400


def register(flow, body, **kwargs):
    return flow.post("/oauth/register", json=body, **kwargs)


def assert_oauth_error(reply, status, error):
    assert reply.status == status, reply.text
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.json()["error"] == error
    assert reply.headers["Cache-Control"] == "no-store"
    return reply.json()


def test_the_defaults():
    limits = OAuthLimits()
    assert limits.max_body == 64 * 1024
    assert (limits.registrations, limits.registration_window) == (20, 3600)
    assert limits.unused_client_ttl <= DAY


@pytest.mark.parametrize(
    "changes", [{"max_body": 0}, {"registrations": -1}, {"max_metadata": "big"}]
)
def test_bad_limits(changes):
    with pytest.raises(ValueError):
        OAuthLimits(**changes)


# -- request bodies -------------------------------------------------------------

BIG = 64 * 1024 + 1


@pytest.mark.parametrize(
    "request_",
    [
        {"path": "/oauth/register", "json": {"redirect_uris": ["x" * BIG]}},
        {"path": "/oauth/token", "data": {"grant_type": "x", "code": "x" * BIG}},
        {"path": "/oauth/revoke", "data": {"token": "x" * BIG}},
    ],
    ids=["register", "token", "revoke"],
)
def test_a_body_over_the_limit_gets_413_json(flow, request_):
    path = request_.pop("path")
    reply = flow.post(path, **request_)
    body = assert_oauth_error(reply, 413, "invalid_request")
    assert str(64 * 1024) in body["error_description"]
    assert reply.headers["Access-Control-Allow-Origin"] == "*"


def test_a_consent_form_over_the_limit_gets_the_page(flow):
    reply = flow.post("/oauth/consent", data={"txn": "x" * BIG})
    assert_page(reply, status=413, error="invalid_request")


def test_the_limit_is_configurable(make_app, make_flow):
    body = {"redirect_uris": [REDIRECT_URI], "client_name": "x" * 50}
    small = make_flow(make_app(limits=OAuthLimits(max_body=40)))
    assert_oauth_error(register(small, body), 413, "invalid_request")
    by_config = make_flow(make_app(config={"MCP_OAUTH_MAX_BODY": 40}))
    assert_oauth_error(register(by_config, body), 413, "invalid_request")
    assert register(make_flow(make_app()), body).status == 201


@pytest.mark.parametrize("depth", [17, 1000, 30000])
def test_deeply_nested_json(flow, depth):
    """About 2 KB nested 1,000 levels deep: a refusal, not a RecursionError."""
    nested = "[" * depth + "]" * depth
    raw = f'{{"redirect_uris": ["{REDIRECT_URI}"], "contacts": {nested}}}'
    reply = flow.post(
        "/oauth/register", data=raw, headers={"Content-Type": "application/json"}
    )
    body = assert_oauth_error(reply, 400, "invalid_client_metadata")
    assert "nested" in body["error_description"]


def test_nesting_that_client_metadata_needs_is_fine(flow):
    key = ECKey.generate_key("P-256", auto_kid=True).as_dict(private=False)
    reply = register(flow, {"redirect_uris": [REDIRECT_URI], "jwks": {"keys": [key]}})
    assert reply.status == 201, reply.text


# -- what one registration may hold ----------------------------------------------


def test_redirect_uri_count(flow):
    uris = [f"http://127.0.0.1:{8000 + i}/cb{i}" for i in range(11)]
    body = assert_oauth_error(
        register(flow, {"redirect_uris": uris}), 400, "invalid_redirect_uri"
    )
    assert "at most 10" in body["error_description"]
    assert register(flow, {"redirect_uris": uris[:10]}).status == 201


def test_redirect_uri_length(flow):
    uri = "https://app.example.com/" + "a" * 2048
    body = assert_oauth_error(
        register(flow, {"redirect_uris": [uri]}), 400, "invalid_redirect_uri"
    )
    assert "longer than 2048" in body["error_description"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("client_uri", "https://app.example.com/" + "a" * 2048),
        ("logo_uri", "https://app.example.com/" + "a" * 2048),
        ("contacts", ["a" * 2049 + "@example.com"]),
        ("software_id", "s" * 2049),
    ],
)
def test_string_length(flow, field, value):
    body = assert_oauth_error(
        register(flow, {"redirect_uris": [REDIRECT_URI], field: value}),
        400,
        "invalid_client_metadata",
    )
    assert field in body["error_description"]


def test_metadata_size(flow):
    contacts = [f"{i:04d}" + "a" * 1000 + "@example.com" for i in range(20)]
    body = assert_oauth_error(
        register(flow, {"redirect_uris": [REDIRECT_URI], "contacts": contacts}),
        400,
        "invalid_client_metadata",
    )
    assert "larger than 16384 bytes" in body["error_description"]
    small = register(flow, {"redirect_uris": [REDIRECT_URI], "contacts": contacts[:2]})
    assert small.status == 201


# -- the registration rate ---------------------------------------------------------


def test_registrations_per_address(make_app, make_flow):
    flow = make_flow(make_app(limits=OAuthLimits(registrations=3)))
    body = {"redirect_uris": [REDIRECT_URI]}
    for _ in range(3):
        assert register(flow, body).status == 201
    refused = register(flow, body)
    error = assert_oauth_error(refused, 429, "temporarily_unavailable")
    assert "too many registrations" in error["error_description"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 3600
    assert refused.headers["Access-Control-Allow-Origin"] == "*"
    # Another address is counted apart.
    other = register(flow, body, environ_base={"REMOTE_ADDR": "192.0.2.7"})
    assert other.status == 201


def test_ipv6_addresses_count_by_their_slash_64(make_app, make_flow):
    """Red team: an IPv6 client rotated through its /64 around the limit."""
    flow = make_flow(make_app(limits=OAuthLimits(registrations=2)))
    body = {"redirect_uris": [REDIRECT_URI]}
    for address in ("2001:db8:1:2::1", "2001:db8:1:2:ffff::7"):
        reply = register(flow, body, environ_base={"REMOTE_ADDR": address})
        assert reply.status == 201
    refused = register(flow, body, environ_base={"REMOTE_ADDR": "2001:db8:1:2::99"})
    assert_oauth_error(refused, 429, "temporarily_unavailable")
    # The next /64 is another client.
    other = register(flow, body, environ_base={"REMOTE_ADDR": "2001:db8:1:3::1"})
    assert other.status == 201


def test_the_window_ends(make_app, make_flow, monkeypatch):
    app = make_app(config={"MCP_OAUTH_REGISTRATIONS": 1})
    flow = make_flow(app)
    body = {"redirect_uris": [REDIRECT_URI]}
    assert register(flow, body).status == 201
    assert register(flow, body).status == 429
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 3601)
    assert register(flow, body).status == 201


def test_no_limit(make_app, make_flow):
    flow = make_flow(make_app(limits=OAuthLimits(registrations=0)))
    for _ in range(25):
        assert register(flow, {"redirect_uris": [REDIRECT_URI]}).status == 201


# -- registrations never used ------------------------------------------------------


def authorize_page(flow, client):
    return flow.authorize(client, challenge=pkce()[1])


def test_an_unused_registration_expires_within_a_day(flow, monkeypatch):
    client = flow.register()
    assert authorize_page(flow, client).status == 302
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + DAY + 5)
    assert_page(authorize_page(flow, client), error="invalid_client")


def test_a_login_keeps_the_registration(flow, monkeypatch):
    client = flow.register()
    flow.login(client)
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 30 * DAY)
    assert authorize_page(flow, client).status == 302
    monkeypatch.setattr(time, "time", lambda: now + CLIENT_TTL + 5)
    assert_page(authorize_page(flow, client), error="invalid_client")


def test_limits_from_the_app_config(make_app):
    app = make_app(config={"MCP_OAUTH_UNUSED_CLIENT_TTL": 60, "MCP_OAUTH_MAX_BODY": 9})
    limits = app.extensions["mcp_oauth"].limits
    assert (limits.unused_client_ttl, limits.max_body) == (60, 9)
    assert limits.registrations == OAuthLimits().registrations
