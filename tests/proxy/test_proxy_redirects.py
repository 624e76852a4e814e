"""The redirect URI rules, without a server (RFC 6749 3.1.2, RFC 8252 7.3)."""

from __future__ import annotations

import pytest

from flask_mcp.auth.proxy import RedirectPattern
from flask_mcp.auth.proxy.redirects import check_redirect_uri
from flask_mcp.auth.proxy.redirects import redirect_uri_matches

ACCEPTED = [
    "https://app.example.com/callback",
    "https://app.example.com:8443/cb?x=1",
    "http://localhost/callback",
    "http://localhost:3000/callback",
    "http://127.0.0.1:8765/callback",
    "http://127.9.9.9/cb",
    "http://[::1]:8080/callback",
]
REFUSED = {
    "http://app.example.com/callback": "loopback",
    "http://localhost@evil.com/callback": "userinfo",
    "https://user:pw@app.example.com/cb": "userinfo",
    "https://app.example.com/cb#fragment": "fragment",
    "https://app.example.com/cb#": "fragment",
    "javascript:alert(1)": "https",
    "com.example.app:/callback": "https",
    "ftp://app.example.com/cb": "https",
    "https:///cb": "host",
    "https://app.example.com/c b": "whitespace",
    "https://app.example.com\\@evil.com/": "backslash",
    "https://app.example.com:99999/cb": "port",
    "": "non-empty",
    # RFC 9700 4.1.1: paths that resolve elsewhere than they read.
    "https://app.example.com/cb/../evil": "dot-segments",
    "https://app.example.com/cb/./x": "dot-segments",
    "https://app.example.com/cb/..": "dot-segments",
    "https://app.example.com/..;/evil": "dot-segments",
    "https://app.example.com/cb/%2e%2e/evil": "dot-segments",
    "https://app.example.com/cb/%2E./evil": "dot-segments",
    "https://app.example.com/cb/.%2e/evil": "dot-segments",
    "https://app.example.com/cb/%2e/x": "dot-segments",
    "http://127.0.0.1:8765/callback/../x": "dot-segments",
    "https://app.example.com/cb%2f..%2fevil": "encoded slash",
    "https://app.example.com/cb%2F%2E%2E%2Fevil": "encoded slash",
    "https://app.example.com/cb%5c..%5cevil": "encoded slash",
    "https://app.example.com/cb%5C": "encoded slash",
}


@pytest.mark.parametrize("uri", ACCEPTED)
def test_accepted(uri):
    check_redirect_uri(uri, None)


@pytest.mark.parametrize(("uri", "reason"), REFUSED.items())
def test_refused_with_the_reason(uri, reason):
    with pytest.raises(ValueError, match=reason):
        check_redirect_uri(uri, None)


PATTERNS = [
    RedirectPattern("https://app.example.com/*"),
    RedirectPattern("http://127.0.0.1:*/callback"),
    RedirectPattern("https://exact.example.com/only"),
]


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/cb",
        "https://app.example.com/",
        "https://APP.example.com/deep/path",
        "http://127.0.0.1:5555/callback",
        "http://127.0.0.1/callback",
        "https://exact.example.com/only",
    ],
)
def test_allow_list_matches(uri):
    check_redirect_uri(uri, PATTERNS)


@pytest.mark.parametrize(
    "uri",
    [
        "https://appXexample.com/cb",  # the "." of the pattern is no wildcard
        "https://app.example.com.evil.com/cb",
        "https://evil.app.example.com/cb",
        "https://evil.com/app.example.com/",
        "https://app.example.com:444/cb",
        "http://127.0.0.1:5555/other",
        "http://localhost:5555/callback",
        "https://exact.example.com/only/more",
    ],
)
def test_allow_list_refuses_look_alikes(uri):
    with pytest.raises(ValueError, match="allow-list"):
        check_redirect_uri(uri, PATTERNS)


@pytest.mark.parametrize(
    "uri",
    [
        "https://app.example.com/../evil",
        "https://app.example.com/a/%2e%2e/%2e%2e/evil",
        "https://app.example.com/a/%2E./b",
        "https://app.example.com/a%2f..%2fb",
        "https://app.example.com/a%5Cb",
        "http://127.0.0.1:5555/callback/..",
    ],
)
def test_a_star_never_matches_dot_segments_or_encoded_slashes(uri):
    assert not any(pattern.matches(uri) for pattern in PATTERNS)
    with pytest.raises(ValueError, match="dot-segments|encoded slash"):
        check_redirect_uri(uri, PATTERNS)


@pytest.mark.parametrize(
    "pattern",
    [
        "https://*.example.com/",
        "https://u@app.example.com/",
        "https://a/#x",
        "https://app.example.com/../*",
        "https://app.example.com/a/./b",
        "https://app.example.com/%2e%2e/*",
        "https://app.example.com/a/%2E./*",
        "https://app.example.com/a%2f*",
        "https://app.example.com/a%5c*",
    ],
)
def test_bad_patterns(pattern):
    with pytest.raises(ValueError):
        RedirectPattern(pattern)


@pytest.mark.parametrize(
    ("registered", "requested", "match"),
    [
        ("https://app.example.com/cb", "https://app.example.com/cb", True),
        ("https://app.example.com/cb", "https://app.example.com/cb/", False),
        ("https://app.example.com/cb", "https://app.example.com/cb?x=1", False),
        ("https://app.example.com/cb", "https://app.example.com:8443/cb", False),
        ("https://app.example.com/cb", "https://appXexample.com/cb", False),
        ("http://127.0.0.1:8765/cb", "http://127.0.0.1:9999/cb", True),
        ("http://127.0.0.1/cb", "http://127.0.0.1:9999/cb", True),
        ("http://localhost:1/cb", "http://localhost:2/cb", True),
        ("http://127.0.0.1:8765/cb", "http://localhost:8765/cb", False),
        ("http://127.0.0.1:8765/cb", "http://127.0.0.1:9999/other", False),
        ("http://localhost/cb", "http://localhost@evil.com/cb", False),
        ("http://localhost/cb", "http://localhost:1/cb#x", False),
        ("http://localhost/cb", "http://localhost:1/cb/../cb", False),
        ("https://app.example.com/a/../cb", "https://app.example.com/a/../cb", False),
    ],
)
def test_matching_at_the_authorization_endpoint(registered, requested, match):
    assert redirect_uri_matches(registered, requested) is match
