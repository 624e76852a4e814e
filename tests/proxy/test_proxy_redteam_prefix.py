"""Second look at the proxy behind a path prefix (``ProxyFix(x_for=1,
x_proto=1, x_prefix=1)`` as docs/examples/prefix_app.py sets it): the
documents agree with each other, and no request header makes the server
advertise another host or prefix."""

from __future__ import annotations

import pytest
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_mcp import FlaskMCP
from flask_mcp.auth.proxy import OAuthProxy

from .app import make_provider

PUBLIC = "https://tools.example.com/tools"
FRONT = {
    "Host": "tools.example.com",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Prefix": "/tools",
}
RESOURCE_METADATA = "/.well-known/oauth-protected-resource/mcp"
SERVER_METADATA = "/.well-known/oauth-authorization-server"


@pytest.fixture
def http(tmp_path, upstream):
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    FlaskMCP(
        app,
        name="tools",
        auth=OAuthProxy(make_provider(PUBLIC, upstream.url), scopes=["tools:read"]),
    )
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_prefix=1)
    return app.test_client()


def test_the_documents_agree(http):
    resource = http.get(RESOURCE_METADATA, headers=FRONT).json
    server = http.get(SERVER_METADATA, headers=FRONT).json
    assert resource["resource"] == PUBLIC + "/mcp"
    assert resource["authorization_servers"] == [server["issuer"]] == [PUBLIC]
    for name in ("authorization_endpoint", "token_endpoint", "registration_endpoint"):
        assert server[name].startswith(PUBLIC + "/oauth/"), server[name]


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Forwarded-Host": "evil.example"},
        {"X-Forwarded-Prefix": "/evil"},
        {"X-Forwarded-Proto": "http"},
        {"X-Forwarded-Port": "4444"},
        {"Host": "tools.example.com:4444"},
        {"Forwarded": "host=evil.example;proto=http"},
    ],
)
def test_headers_do_not_move_what_is_advertised(http, headers):
    """Resource and issuer come from the configured public URL, whatever the
    request says (ProxyFix trusts no X-Forwarded-Host here)."""
    resource = http.get(RESOURCE_METADATA, headers={**FRONT, **headers})
    assert resource.status_code == 200
    assert resource.json["resource"] == PUBLIC + "/mcp"
    assert resource.json["authorization_servers"] == [PUBLIC]
    server = http.get(
        "/.well-known/oauth-authorization-server/tools",
        headers={**FRONT, **headers, "X-Forwarded-Prefix": ""},
    )
    assert server.status_code == 200
    assert server.json["issuer"] == PUBLIC
    assert "evil" not in server.text and "evil" not in resource.text


def test_another_host_is_refused(http):
    reply = http.get(RESOURCE_METADATA, headers={**FRONT, "Host": "evil.example"})
    assert reply.status_code == 403
    assert "evil.example" not in reply.headers.get("Location", "")


def test_the_flow_redirects_only_inside_the_prefix(http):
    """The authorization endpoint's redirect to the consent page stays on
    this server, under the prefix (relative, never another host)."""
    registered = http.post(
        "/oauth/register",
        headers=FRONT,
        json={
            "client_name": "c",
            "redirect_uris": ["http://127.0.0.1:9/cb"],
            "token_endpoint_auth_method": "none",
        },
    ).json
    reply = http.get(
        "/oauth/authorize",
        headers={**FRONT, "X-Forwarded-Host": "evil.example"},
        query_string={
            "response_type": "code",
            "client_id": registered["client_id"],
            "redirect_uri": "http://127.0.0.1:9/cb",
            "code_challenge": "x" * 43,
            "code_challenge_method": "S256",
            "resource": PUBLIC + "/mcp",
        },
    )
    assert reply.status_code == 302, reply.text
    assert reply.headers["Location"].startswith("/tools/oauth/consent?txn=")
