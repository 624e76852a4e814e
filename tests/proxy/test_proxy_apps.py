"""Several FlaskMCP servers behind OAuth proxies on one app: one proxy shared
by two endpoints gives each its own tokens; a second proxy is refused."""

from __future__ import annotations

import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth.proxy import OAuthProxy

from .app import SCOPES
from .app import make_provider
from .conftest import BASE_URL
from .flow import FlaskHttp
from .flow import Flow
from .flow import hidden
from .flow import pkce
from .test_proxy_authenticate import INIT
from .test_proxy_authenticate import claims_of
from .test_proxy_authorize import assert_page

HEADERS = {"Accept": "application/json, text/event-stream"}


def two_servers(tmp_path, upstream, second_proxy=None) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config["TESTING"] = True
    proxy = OAuthProxy(make_provider(BASE_URL, upstream.url), scopes=SCOPES)
    for name in ("a", "b"):
        FlaskMCP(
            app,
            name=name,
            blueprint_name=name,
            path=f"/{name}/mcp",
            auth=second_proxy if name == "b" and second_proxy else proxy,
        )
    return app


def initialize(app: Flask, path: str, token: str) -> int:
    reply = app.test_client().post(
        path, json=INIT, headers={**HEADERS, "Authorization": f"Bearer {token}"}
    )
    return reply.status_code


def test_a_proxy_shared_by_two_endpoints(tmp_path, upstream):
    app = two_servers(tmp_path, upstream)
    tokens = {}
    for name in ("a", "b"):
        flow = Flow(FlaskHttp(app.test_client()), f"{BASE_URL}/{name}/mcp")
        tokens[name] = flow.tokens()
        assert claims_of(tokens[name]["access_token"])["aud"] == flow.resource
    assert initialize(app, "/a/mcp", tokens["a"]["access_token"]) == 200
    assert initialize(app, "/b/mcp", tokens["b"]["access_token"]) == 200
    # Each endpoint takes only its own tokens.
    assert initialize(app, "/b/mcp", tokens["a"]["access_token"]) == 401
    assert initialize(app, "/a/mcp", tokens["b"]["access_token"]) == 401
    # A refresh keeps the audience of the grant.
    refreshed = flow.refresh(tokens["b"]["client"], tokens["b"]["refresh_token"])
    assert claims_of(refreshed.json()["access_token"])["aud"] == f"{BASE_URL}/b/mcp"
    documents = {
        name: app.test_client()
        .get(f"/.well-known/oauth-protected-resource/{name}/mcp")
        .json
        for name in ("a", "b")
    }
    assert documents["a"]["resource"] == f"{BASE_URL}/a/mcp"
    assert documents["b"]["resource"] == f"{BASE_URL}/b/mcp"
    assert documents["a"]["authorization_servers"] == [BASE_URL]


def test_a_grant_is_for_one_endpoint(tmp_path, upstream):
    app = two_servers(tmp_path, upstream)
    flow = Flow(FlaskHttp(app.test_client()), f"{BASE_URL}/a/mcp")
    client = flow.register()
    both = [f"{BASE_URL}/a/mcp", f"{BASE_URL}/b/mcp"]
    assert_page(
        flow.authorize(client, challenge=pkce()[1], resource=both),
        error="invalid_target",
    )
    login = flow.login(client)
    # Its code cannot be redeemed for the other endpoint...
    assert flow.token(login, resource=both[1]).json()["error"] == "invalid_target"
    # ...nor its refresh token.
    tokens = flow.tokens(client)
    reply = flow.refresh(client, tokens["refresh_token"], resource=both[1])
    assert reply.json()["error"] == "invalid_target"


def test_a_grant_without_resource_is_for_the_first_endpoint_only(tmp_path, upstream):
    """Red team: a code issued without ``resource`` and redeemed with
    ``resource=/b/mcp`` was answered with a token for ``/a/mcp``."""
    app = two_servers(tmp_path, upstream)
    flow = Flow(FlaskHttp(app.test_client()), f"{BASE_URL}/a/mcp")
    client = flow.register()
    login = flow.login(client, resource=None)
    reply = flow.token(login, resource=f"{BASE_URL}/b/mcp")
    assert reply.status == 400
    assert reply.json()["error"] == "invalid_target"
    assert "access_token" not in reply.json()
    # The code is spent: redeeming it rightly now fails too.
    assert flow.token(login).json()["error"] == "invalid_grant"
    # Redeemed for the first endpoint (or without resource), it works.
    for resource in (f"{BASE_URL}/a/mcp", None):
        tokens = flow.token(flow.login(client, resource=None), resource=resource)
        assert tokens.status == 200, tokens.text
        claims = claims_of(tokens.json()["access_token"])
        assert claims["aud"] == f"{BASE_URL}/a/mcp"
        refused = flow.refresh(
            client, tokens.json()["refresh_token"], resource=f"{BASE_URL}/b/mcp"
        )
        assert refused.json()["error"] == "invalid_target"


def test_consent_is_remembered_per_client_and_endpoint(tmp_path, upstream):
    """Red team: a consent remembered for ``/a/mcp`` silently authorized the
    same client for ``/b/mcp``, and the page never named the endpoint."""
    app = two_servers(tmp_path, upstream)
    a, b = f"{BASE_URL}/a/mcp", f"{BASE_URL}/b/mcp"
    flow = Flow(FlaskHttp(app.test_client()), a)
    client = flow.register()
    first = flow.authorize(client, challenge=pkce()[1])
    page = flow.get(first.location)
    assert f"the MCP server at <code>{a}</code>" in page.text
    flow.login(client, remember=True)
    # Remembered for /a/mcp: straight to the upstream.
    again = flow.authorize(client, challenge=pkce()[1])
    assert again.location.startswith(upstream.url)
    # For /b/mcp the user is asked, and the page names /b/mcp.
    other = flow.authorize(client, challenge=pkce()[1], resource=b)
    assert "/oauth/consent?txn=" in other.location
    page = flow.get(other.location)
    assert f"the MCP server at <code>{b}</code>" in page.text
    assert a not in page.text
    # Without resource the request is for the first endpoint: remembered.
    bare = flow.authorize(client, challenge=pkce()[1], resource=None)
    assert bare.location.startswith(upstream.url)
    # Both approvals listed, each with its endpoint; forgetting one keeps
    # the other.
    Flow(FlaskHttp(flow.http.client), b).login(client, remember=True)
    approvals = flow.get("/oauth/consent")
    assert approvals.text.count("Forget this approval") == 2
    assert (
        f"<code>{a}</code>" in approvals.text and f"<code>{b}</code>" in approvals.text
    )
    form = {
        "action": "forget",
        "client_id": client["client_id"],
        "resource": b,
        "csrf_token": hidden(approvals.text, "csrf_token"),
    }
    assert flow.post("/oauth/consent", data=form).status == 303
    assert flow.authorize(client, challenge=pkce()[1]).location.startswith(upstream.url)
    asked = flow.authorize(client, challenge=pkce()[1], resource=b)
    assert "/oauth/consent?txn=" in asked.location


@pytest.mark.parametrize("issuer", [BASE_URL, "https://elsewhere.example"])
def test_a_second_proxy_is_refused(tmp_path, upstream, issuer):
    other = OAuthProxy(make_provider(issuer, upstream.url), scopes=SCOPES)
    with pytest.raises(RuntimeError) as refused:
        two_servers(tmp_path, upstream, second_proxy=other)
    message = str(refused.value)
    assert "already runs an OAuthProxy" in message
    assert ("with the same issuer" in message) is (issuer == BASE_URL)
    assert "Pass the same OAuthProxy object as auth=" in message
