"""Client ID Metadata Documents the proxy refuses, each with its OAuth error.

The ``client_id`` URL is chosen by whoever sends the request, so the fetch
is guarded (public addresses only unless allow-listed, also behind a DNS
name or a redirect; https; no redirects; small, fast, JSON) and the document
checked (its own URL as ``client_id``, a name, redirect URIs, no shared
secret). At the authorization endpoint a refusal is the error page (the
redirect URI is not proven), at the token endpoint 401 ``invalid_client``.
"""

from __future__ import annotations

import html
import logging
import socket
import time

import pytest

from flask_mcp.auth.proxy import CIMDOptions

from .documents import Answer
from .flow import REDIRECT_URI
from .flow import pkce
from .test_proxy_cimd_flow import client_of

OPTIONS = CIMDOptions(allow_hosts=("localhost",), timeout=1, max_size=2048)


@pytest.fixture
def flow(make_app, make_flow):
    return make_flow(make_app(cimd=OPTIONS))


#: What the requester sees of a refusal once the fetch began.
UNUSABLE = "cannot be used; the server's log says why"


@pytest.fixture(autouse=True)
def _log(caplog):
    """The proxy's warnings of this test, for :func:`refused`."""
    global LOG
    caplog.set_level(logging.WARNING, logger="flask_mcp.auth.proxy")
    LOG = caplog
    yield
    LOG = None


LOG: pytest.LogCaptureFixture | None = None


def refused(
    flow, client_id, error="invalid_client", *, why, redirect_uri=None, shown=False
):
    """Authorize with ``client_id``: the error page with ``error``; also at the
    token endpoint for a client error. ``why`` is in the description when
    the URL itself is refused (``shown``), else only in the log: the
    requester learns nothing of what the server's network answered."""
    client = client_of(client_id, redirect_uri or REDIRECT_URI)
    page = flow.authorize(client, challenge=pkce()[1])
    assert page.status == 400, page.text
    assert page.headers["Content-Type"].startswith("text/html")
    assert f"<code>{error}</code>" in page.text, page.text
    text = html.unescape(page.text)
    if shown:
        assert why in text, page.text
    else:
        assert UNUSABLE in text and why not in text, page.text
        assert LOG is not None and why in LOG.text, LOG.text if LOG else None
    if error == "invalid_client":
        token = flow.post(
            "/oauth/token",
            data={
                "grant_type": "authorization_code",
                "code": "c",
                "redirect_uri": REDIRECT_URI,
                "code_verifier": pkce()[0],
                "client_id": client_id,
            },
        )
        assert token.status == 401, token.text
        assert token.json()["error"] == "invalid_client"
        description = token.json()["error_description"]
        assert why in description if shown else UNUSABLE in description
    return page


@pytest.fixture
def resolve(monkeypatch):
    """``resolve(name, address)``: make ``name`` resolve to ``address``."""
    real = socket.getaddrinfo
    names: dict[str, str] = {}

    def getaddrinfo(host, port, *args, **kwargs):
        if host in names:
            family = socket.AF_INET6 if ":" in names[host] else socket.AF_INET
            return [(family, socket.SOCK_STREAM, 6, "", (names[host], port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return names.__setitem__


# -- the client_id URL -------------------------------------------------------


def test_http_client_id(flow, documents, doc_path):
    url = documents.document(doc_path).replace("https://", "http://")
    refused(flow, url, why="must use https", shown=True)
    assert documents.hits(doc_path) == 0


@pytest.mark.parametrize("path", ["", "/"])
def test_client_id_without_a_path(flow, documents, path):
    refused(flow, documents.url(path), why="must have a path", shown=True)


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://user@localhost/client.json", "userinfo"),
        ("https://localhost/a/../client.json", "dot-segments"),
        ("https://localhost/a/%2e%2e/client.json", "dot-segments"),
        ("https://localhost/client.json#frag", "fragment"),
    ],
)
def test_malformed_client_id_urls(flow, url, why):
    refused(flow, url, why=why, shown=True)


def test_document_naming_another_client_id(flow, documents, doc_path):
    documents.document(doc_path, client_id="https://elsewhere.example/client.json")
    refused(flow, documents.url(doc_path), why="names another client_id")


def test_document_client_id_differing_in_case(flow, documents, doc_path):
    url = documents.url(doc_path)
    documents.document(doc_path, client_id=url.replace("localhost", "LOCALHOST"))
    refused(flow, url, why="names another client_id")


# -- where it may be fetched from --------------------------------------------


def test_loopback_address_not_allow_listed(flow, documents, doc_path):
    url = documents.document(doc_path, host="127.0.0.1")
    refused(flow, url, why="resolves to a loopback address")
    assert documents.hits(doc_path) == 0


def test_loopback_through_a_dns_name(make_app, make_flow, documents, doc_path):
    # localhost resolves to 127.0.0.1 (/etc/hosts); it is not allow-listed here.
    flow = make_flow(make_app(cimd=CIMDOptions(timeout=1)))
    url = documents.document(doc_path)
    refused(flow, url, why="resolves to a loopback address")
    assert documents.hits(doc_path) == 0


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.1.2.3", "private"),
        ("192.168.0.10", "private"),
        ("169.254.169.254", "link-local"),
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("100.64.0.1", "not globally routable"),
        ("::1", "loopback"),
        ("fd00::1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("64:ff9b::a9fe:a9fe", "link-local"),
    ],
)
def test_private_addresses_behind_a_name(flow, resolve, address, kind):
    resolve("metadata.internal.test", address)
    url = "https://metadata.internal.test/client.json"
    refused(flow, url, why=f"resolves to a {kind} address")


def test_allow_listed_name_connects_to_the_checked_address(
    make_app, make_flow, documents, doc_path, resolve
):
    """An allow-listed name is fetched from the address it resolved to, with
    the name in TLS (SNI, certificate) and in ``Host``."""
    resolve("cimd.test", "127.0.0.1")
    flow = make_flow(make_app(cimd=CIMDOptions(allow_hosts=("cimd.test",))))
    url = documents.document(doc_path, host="cimd.test")
    assert flow.login(client_of(url)).params["code"]
    assert documents.hosts(doc_path) == [f"cimd.test:{documents.port}"]


def test_allow_listed_address(make_app, make_flow, documents, doc_path):
    flow = make_flow(make_app(cimd=CIMDOptions(allow_hosts=("127.0.0.0/8",))))
    url = documents.document(doc_path, host="127.0.0.1")
    assert flow.login(client_of(url)).params["code"]


def test_redirect_towards_a_private_address(flow, documents, doc_path):
    internal = documents.url(doc_path + "-internal", host="127.0.0.1")
    documents.document(doc_path + "-internal", host="127.0.0.1")
    documents.serve(doc_path, Answer(302, headers={"Location": internal}))
    refused(flow, documents.url(doc_path), why="answered with a redirect (302)")
    # Fetched for the authorization request; the token request meets the
    # remembered failure.
    assert documents.hits(doc_path) == 1
    assert documents.hits(doc_path + "-internal") == 0


def test_any_redirect(flow, documents, doc_path):
    target = documents.document(doc_path + "-moved")
    documents.serve(doc_path, Answer(301, headers={"Location": target}))
    refused(flow, documents.url(doc_path), why="answered with a redirect (301)")
    assert documents.hits(doc_path + "-moved") == 0


def test_untrusted_certificate(flow, documents, doc_path, monkeypatch):
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    url = documents.document(doc_path)
    refused(flow, url, why="TLS certificate was not accepted")


def test_nothing_listening(flow):
    refused(flow, "https://localhost:9/client.json", why="connection failed")


def test_unknown_host_name(flow):
    refused(flow, "https://no-such-host.invalid/client.json", why="does not resolve")


# -- what it answers -----------------------------------------------------------


@pytest.mark.parametrize("length", [True, False])
def test_oversized_document(flow, documents, doc_path, length):
    url = documents.url(doc_path)
    body = b'{"client_id": "%s", "padding": "%s"}' % (url.encode(), b"x" * 4096)
    headers = {"Content-Type": "application/json"}
    documents.serve(doc_path, Answer(body=body, headers=headers, length=length))
    refused(flow, url, why="larger than 2048 bytes")


def test_slow_document(flow, documents, doc_path):
    url = documents.document(doc_path)
    documents.answers[doc_path].trickle = 0.2
    started = time.monotonic()
    refused(flow, url, why="did not answer within 1 seconds")
    assert time.monotonic() - started < 4  # two fetches, cut at 1s each


def test_stalled_document(flow, documents, doc_path):
    url = documents.document(doc_path)
    documents.answers[doc_path].delay = 3
    refused(flow, url, why="did not answer within 1 seconds")


@pytest.mark.parametrize(
    ("content_type", "body", "why"),
    [
        ("text/html", b"<html></html>", "not JSON (Content-Type 'text/html')"),
        ("application/json", b"{not json", "not a JSON object"),
        ("application/json", b'["a", "list"]', "not a JSON object"),
        ("application/json", b"[" * 50 + b"]" * 50, "nested deeper"),
        ("application/json", b'{"a":' * 40 + b"1" + b"}" * 40, "nested deeper"),
    ],
)
def test_non_json_documents(flow, documents, doc_path, content_type, body, why):
    headers = {"Content-Type": content_type}
    documents.serve(doc_path, Answer(body=body, headers=headers))
    refused(flow, documents.url(doc_path), why=why)


def test_not_found(flow, documents):
    refused(flow, documents.url("/nothing/here.json"), why="answered HTTP 404")


# -- what it says ----------------------------------------------------------------


def test_redirect_uri_not_in_the_document(flow, documents, doc_path):
    url = documents.document(doc_path, redirect_uris=["https://app.example.com/cb"])
    page = refused(
        flow,
        url,
        "invalid_request",
        why="Redirect URI",
        redirect_uri="https://attacker.example/cb",
        shown=True,  # the document is fine; the request is not
    )
    assert "attacker.example" not in page.headers.get("Location", "")


def test_loopback_redirect_uri_matches_any_port(flow, documents, doc_path):
    url = documents.document(doc_path, redirect_uris=["http://127.0.0.1/callback"])
    login = flow.login(client_of(url, "http://127.0.0.1:54321/callback"))
    assert login.reply.location.startswith("http://127.0.0.1:54321/callback?")
    refused(
        flow,
        url,
        "invalid_request",
        why="Redirect URI",
        redirect_uri="http://127.0.0.1:54321/other",
        shown=True,
    )


@pytest.mark.parametrize(
    "method", ["client_secret_basic", "client_secret_post", "client_secret_jwt"]
)
def test_shared_secret_auth_method(flow, documents, doc_path, method):
    url = documents.document(doc_path, token_endpoint_auth_method=method)
    refused(flow, url, why=f"token_endpoint_auth_method '{method}' is not allowed")


def test_client_secret_in_the_document(flow, documents, doc_path):
    url = documents.document(doc_path, client_secret="s3cret")
    refused(flow, url, why="must not hold a client_secret")


@pytest.mark.parametrize(
    ("fields", "why"),
    [
        ({"client_name": None}, "no client_name"),
        ({"client_name": "  "}, "no client_name"),
        ({"redirect_uris": None}, "'redirect_uris' must be a non-empty array"),
        ({"redirect_uris": ["http://evil.example/cb"]}, "loopback hosts only"),
        ({"redirect_uris": ["javascript:alert(1)"]}, "must use https"),
        ({"client_name": "x" * 101}, "at most 100 characters"),
        ({"grant_types": ["password"]}, "grant_types"),
        ({"scope": "admin:everything"}, "scope"),
        ({"client_uri": "not a url"}, "client_uri"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "needs the client's jwks"),
    ],
)
def test_invalid_document_fields(flow, documents, doc_path, fields, why):
    url = documents.document(doc_path, **fields)
    refused(flow, url, why=why)


def test_too_many_redirect_uris(flow, documents, doc_path):
    uris = [f"https://app.example.com/cb{i}" for i in range(11)]
    url = documents.document(doc_path, redirect_uris=uris)
    refused(flow, url, why="at most 10 redirect URIs")


def test_fetches_per_client_address_are_limited(make_app, make_flow, documents):
    options = CIMDOptions(allow_hosts=("localhost",), fetches_per_minute=2)
    flow = make_flow(make_app(cimd=options))
    urls = [documents.document(f"/rate/{i}/client.json") for i in range(3)]
    for url in urls[:2]:
        assert flow.authorize(client_of(url), challenge=pkce()[1]).status == 302
    page = flow.authorize(client_of(urls[2]), challenge=pkce()[1])
    assert page.status == 429 and "temporarily_unavailable" in page.text
    assert 1 <= int(page.headers["Retry-After"]) <= 60
    form = {"grant_type": "refresh_token", "refresh_token": "r", "client_id": urls[2]}
    token = flow.post("/oauth/token", data=form)
    assert token.status == 429 and token.json()["error"] == "temporarily_unavailable"
    assert token.headers["Retry-After"]
    assert documents.hits("/rate/2/client.json") == 0
    # Documents already kept are not fetched, so not counted.
    assert flow.authorize(client_of(urls[0]), challenge=pkce()[1]).status == 302


def test_ipv6_clients_count_by_their_slash_64(make_app, documents):
    options = CIMDOptions(allow_hosts=("localhost",), fetches_per_minute=2)
    http = make_app(cimd=options).test_client()
    urls = [documents.document(f"/rate6/{i}/client.json") for i in range(4)]

    def ask(url: str, address: str) -> int:
        reply = http.get(
            "/oauth/authorize",
            query_string={
                "response_type": "code",
                "client_id": url,
                "redirect_uri": REDIRECT_URI,
                "code_challenge": pkce()[1],
                "code_challenge_method": "S256",
            },
            environ_base={"REMOTE_ADDR": address},
        )
        return reply.status_code

    assert ask(urls[0], "2001:db8:5:6::1") == 302
    assert ask(urls[1], "2001:db8:5:6:ffff::2") == 302
    assert ask(urls[2], "2001:db8:5:6::3") == 429  # the same /64
    assert ask(urls[2], "2001:db8:5:7::1") == 302  # another one


def test_the_name_is_resolved_once(flow, documents, doc_path, monkeypatch):
    """DNS rebinding: the first answer is public, later ones loopback. The
    fetch connects to the address it checked, never to a second answer."""
    url = documents.document(doc_path, host="cimd.test")
    real, answers = socket.getaddrinfo, []

    def rebinding(host, port, *args, **kwargs):
        if host != "cimd.test":
            return real(host, port, *args, **kwargs)
        address = "192.88.99.200" if not answers else "127.0.0.1"
        answers.append(address)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    page = flow.authorize(client_of(url), challenge=pkce()[1])
    assert page.status == 400 and "invalid_client" in page.text
    assert answers == ["192.88.99.200"]
    assert documents.hits(doc_path) == 0
