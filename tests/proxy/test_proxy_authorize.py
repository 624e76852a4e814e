"""The authorization endpoint: 400 pages vs redirected errors, PKCE, resource,
and RFC 9207 ``iss`` on every authorization response."""

from __future__ import annotations

import html

import pytest

from .conftest import BASE_URL
from .flow import pkce
from .flow import query

STATE = "client-state"


def assert_page(reply, status=400, error=None):
    """A refusal shown to the user: HTML, never a redirect."""
    assert reply.status == status, reply.text
    assert "Location" not in reply.headers
    assert reply.headers["Content-Type"].startswith("text/html")
    assert reply.headers["X-Frame-Options"] == "DENY"
    if error:
        assert f"<code>{error}</code>" in reply.text


def assert_redirected_error(reply, client, error):
    assert reply.status == 302, reply.text
    assert reply.location.startswith(client["redirect_uris"][0] + "?")
    params = query(reply.location)
    assert params["error"] == error
    assert params["state"] == STATE
    assert params["iss"] == BASE_URL
    return params


@pytest.fixture
def client(flow):
    return flow.register(
        redirect_uris=["https://app.example.com/cb", "http://127.0.0.1:8765/callback"]
    )


def test_unknown_client_gets_a_page(flow):
    reply = flow.authorize(
        {"client_id": "nobody", "redirect_uris": ["https://app.example.com/cb"]},
        challenge=pkce()[1],
    )
    assert_page(reply, error="invalid_client")


def test_missing_client_id_gets_a_page(flow):
    reply = flow.get("/oauth/authorize", query_string={"response_type": "code"})
    assert_page(reply, error="invalid_client")


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "https://evil.example.com/cb",  # unregistered
        "https://appXexample.com/cb",  # look-alike
        "https://app.example.com/cb/",  # not exactly equal
        "https://app.example.com/cb#x",  # fragment
        "http://127.0.0.1@evil.com:8765/callback",  # userinfo
        "http://localhost:8765/callback",  # another loopback host
    ],
)
def test_unregistered_redirect_uri_gets_a_page(flow, client, redirect_uri):
    reply = flow.authorize(client, challenge=pkce()[1], redirect_uri=redirect_uri)
    assert_page(reply, error="invalid_request")


def test_redirect_uri_required_when_several_are_registered(flow, client):
    reply = flow.authorize(client, challenge=pkce()[1], redirect_uri=None)
    assert_page(reply, error="invalid_request")


def test_single_registered_redirect_uri_is_the_default(flow):
    client = flow.register(redirect_uris=["https://app.example.com/cb"])
    reply = flow.authorize(client, challenge=pkce()[1], redirect_uri=None)
    assert reply.status == 302 and "/oauth/consent?txn=" in reply.location


def test_repeated_parameter_gets_a_page(flow, client):
    reply = flow.get(
        "/oauth/authorize?response_type=code&client_id="
        f"{client['client_id']}&client_id={client['client_id']}"
    )
    assert_page(reply, error="invalid_request")


#: Errors found after the client and its redirect URI were validated.
LATE_ERRORS = [
    ({"code_challenge": None}, "invalid_request", "PKCE is required"),
    ({"code_challenge_method": "plain"}, "invalid_request", "must be 'S256'"),
    ({"code_challenge_method": None}, "invalid_request", "must be 'S256'"),
    ({"code_challenge": "short"}, "invalid_request", "Invalid 'code_challenge'"),
    ({"response_type": "token"}, "unsupported_response_type", "token"),
    ({"scope": "mcp:read admin"}, "invalid_scope", ""),
    ({"resource": "https://other.example.com/mcp"}, "invalid_target", ""),
    ({"resource": "http://localhost/mcp-other"}, "invalid_target", ""),
]


def late_error(flow, client, params):
    params = {"challenge": pkce()[1], "state": STATE, **params}
    if "code_challenge" in params:
        params["challenge"] = params.pop("code_challenge")
    return flow.authorize(client, **params)


@pytest.mark.parametrize(("params", "error", "description"), LATE_ERRORS)
def test_errors_of_an_unapproved_open_client_get_a_page(
    flow, client, params, error, description
):
    """RFC 9700 4.11.2: no automatic redirect to a URI anyone could register."""
    reply = late_error(flow, client, params)
    assert_page(reply, error=error)
    assert description in html.unescape(reply.text)


@pytest.fixture(params=["pattern", "registration token", "remembered approval"])
def trusted(request, make_app, make_flow):
    """A flow and a client whose redirect URI is trusted, one way or another."""
    uris = ["https://app.example.com/cb", "http://127.0.0.1:8765/callback"]
    if request.param == "pattern":
        flow = make_flow(make_app(redirect_uri_patterns=["https://app.example.com/*"]))
        return flow, flow.register(redirect_uris=uris[:1])
    if request.param == "registration token":
        flow = make_flow(make_app(registration_token="let-me-in"))
        reply = flow.post(
            "/oauth/register",
            json={"redirect_uris": uris, "token_endpoint_auth_method": "none"},
            headers={"Authorization": "Bearer let-me-in"},
        )
        return flow, reply.json()
    flow = make_flow(make_app())
    client = flow.register(redirect_uris=uris)
    flow.login(client, remember=True)
    return flow, client


@pytest.mark.parametrize(("params", "error", "description"), LATE_ERRORS)
def test_errors_redirected_to_a_trusted_redirect_uri(
    trusted, params, error, description
):
    flow, client = trusted
    found = assert_redirected_error(late_error(flow, client, params), client, error)
    assert description in found.get("error_description", "")


def test_approval_in_another_browser_is_no_trust(make_app, make_flow):
    app = make_app()
    flow = make_flow(app)
    client = flow.register(redirect_uris=["https://app.example.com/cb"])
    flow.login(client, remember=True)
    other = make_flow(app)
    assert_page(late_error(other, client, {"code_challenge": None}))


def test_approval_of_another_redirect_uri_is_no_trust(make_app, make_flow):
    flow = make_flow(make_app())
    uris = ["https://app.example.com/cb", "https://app.example.com/other"]
    client = flow.register(redirect_uris=uris)
    flow.login(client, remember=True)
    reply = late_error(flow, client, {"code_challenge": None, "redirect_uri": uris[1]})
    assert_page(reply, error="invalid_request")


def test_valid_request_goes_to_consent_first(flow, client, upstream):
    before = upstream.stats()["authorize"]
    reply = flow.authorize(client, challenge=pkce()[1], state=STATE)
    assert reply.status == 302
    assert reply.location.startswith("/oauth/consent?txn=")
    assert reply.headers["Cache-Control"] == "no-store"
    cookie = reply.headers["Set-Cookie"]
    assert cookie.startswith("mcp-oauth-browser=")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert upstream.stats()["authorize"] == before  # nobody went upstream


def test_resource_is_optional_and_may_end_in_a_slash(flow, client):
    for resource in (None, "http://localhost/mcp/"):
        reply = flow.authorize(client, challenge=pkce()[1], resource=resource)
        assert reply.status == 302 and "/oauth/consent" in reply.location


def test_success_carries_code_state_and_iss(flow, client):
    login = flow.login(client, state=STATE)
    assert login.reply.location.startswith("https://app.example.com/cb?")
    assert set(login.params) == {"code", "state", "iss"}
    assert login.params["state"] == STATE
    assert login.params["iss"] == BASE_URL


def test_loopback_redirect_on_any_port(flow, client):
    """RFC 8252 7.3: the port of a loopback redirect URI may change per request."""
    uri = "http://127.0.0.1:45678/callback"
    login = flow.login(client, redirect_uri=uri)
    assert login.reply.location.startswith(uri + "?")
    assert flow.token(login, redirect_uri=uri).status == 200


def test_https_proxy_cookie_is_host_prefixed_and_secure(make_app, make_flow, upstream):
    from .app import create_app

    app = create_app(
        str(make_app().instance_path) + "-s", "https://mcp.example.com", upstream.url
    )
    client = app.test_client()
    registered = client.post(
        "/oauth/register",
        json={
            "redirect_uris": ["https://app.example.com/cb"],
            "token_endpoint_auth_method": "none",
        },
        base_url="https://mcp.example.com",
    ).json
    reply = client.get(
        "/oauth/authorize",
        query_string={
            "response_type": "code",
            "client_id": registered["client_id"],
            "code_challenge": pkce()[1],
            "code_challenge_method": "S256",
        },
        base_url="https://mcp.example.com",
    )
    assert reply.status_code == 302
    cookie = reply.headers["Set-Cookie"]
    assert cookie.startswith("__Host-mcp-oauth-browser=")
    assert "Secure" in cookie and "Path=/" in cookie and "Domain" not in cookie
