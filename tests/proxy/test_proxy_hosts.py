"""The proxy's ``base_url`` names the host clients reach: that host is
allowed without repeating it in ``MCP_ALLOWED_HOSTS`` (issue 15, item 12)."""

from __future__ import annotations

import pytest

from flask_mcp.transport.urls import allowing_public_host

from .app import create_app
from .test_proxy_authenticate import INIT

HEADERS = {"Accept": "application/json, text/event-stream"}


def statuses(app, host):
    client = app.test_client()
    base = f"https://{host}"
    mcp = client.post("/mcp", json=INIT, headers=HEADERS, base_url=base)
    document = client.get("/.well-known/oauth-protected-resource/mcp", base_url=base)
    return mcp.status_code, document.status_code


@pytest.mark.parametrize("allowed", [None, ["internal.example"]])
def test_the_base_url_host_is_allowed(tmp_path, upstream, allowed):
    config = {} if allowed is None else {"MCP_ALLOWED_HOSTS": allowed}
    app = create_app(
        str(tmp_path), "https://mcp.example.com", upstream.url, config=config
    )
    # 401: past the host check, asking for a token.
    assert statuses(app, "mcp.example.com") == (401, 200)
    assert statuses(app, "mcp.example.com:8443") == (401, 200)
    assert statuses(app, "evil.example") == (403, 403)
    if allowed:
        assert statuses(app, "internal.example") == (401, 200)
    else:
        assert statuses(app, "localhost:5000") == (401, 200)


@pytest.mark.parametrize(
    ("allowed", "url", "expected"),
    [
        (
            None,
            "https://a.example",
            ("127.0.0.1", "::1", "[::1]", "localhost", "a.example"),
        ),
        (("b.example",), "https://a.example/x", ("b.example", "a.example")),
        (("a.example",), "https://A.example:8443", ("a.example",)),
        (("*",), "https://a.example", ("*",)),
        (
            None,
            "https://[2001:db8::1]:8443",
            ("127.0.0.1", "::1", "[::1]", "localhost", "[2001:db8::1]"),
        ),
        (("b.example",), "not a url", ("b.example",)),
    ],
)
def test_allowing_public_host(allowed, url, expected):
    assert allowing_public_host(allowed, url) == expected
