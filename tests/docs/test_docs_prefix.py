"""docs/examples/prefix_app.py and nginx_prefix.conf: the recipe for the OAuth
proxy behind nginx under a path prefix. tests/oauth_e2e/test_prefix.py runs
both for real (gunicorn, nginx, three clients); here, what nginx sends."""

from __future__ import annotations

import re

from docs_helpers import EXAMPLES

FORWARDED = {
    "Host": "tools.example.com",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Prefix": "/tools",
}
ENV = {
    "OIDC_ISSUER": "https://login.example.com",
    "OIDC_CLIENT_ID": "tools",
    "OIDC_CLIENT_SECRET": "tools-secret",
}


def test_the_app_answers_what_nginx_forwards(load_example):
    app = load_example("prefix_app", env=ENV).app
    http = app.test_client()
    # location /tools/ -> the app, the prefix in X-Forwarded-Prefix
    reply = http.get("/.well-known/oauth-protected-resource/mcp", headers=FORWARDED)
    assert reply.status_code == 200
    assert reply.json["resource"] == "https://tools.example.com/tools/mcp"
    # the RFC 8414 location -> /.well-known/oauth-authorization-server
    reply = http.get("/.well-known/oauth-authorization-server", headers=FORWARDED)
    assert reply.status_code == 200
    assert reply.json["issuer"] == "https://tools.example.com/tools"
    assert reply.json["token_endpoint"] == "https://tools.example.com/tools/oauth/token"
    # Not an OpenID Provider: no OpenID configuration under the prefix.
    reply = http.get("/.well-known/openid-configuration", headers=FORWARDED)
    assert reply.status_code == 404


def test_the_nginx_configuration():
    conf = (EXAMPLES / "nginx_prefix.conf").read_text()
    assert "location /tools/ {" in conf
    assert conf.count("proxy_set_header X-Forwarded-Prefix /tools;") == 2
    # The port is kept: $http_host, not $host.
    assert conf.count("proxy_set_header Host $http_host;") == 2
    assert "$host;" not in conf
    well_known = re.search(r"location ~ (\S+) \{", conf)
    assert well_known is not None
    pattern = re.compile(well_known.group(1))
    for path in (
        "/.well-known/oauth-authorization-server/tools",
        "/.well-known/oauth-protected-resource/tools/mcp",
    ):
        assert pattern.match(path), path
    assert not pattern.match("/.well-known/openid-configuration/tools")
