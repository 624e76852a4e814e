"""Clients identified by a Client ID Metadata Document: the whole flow.

The client's ``client_id`` is the https URL of its document, served by the
test HTTPS server on loopback (allow-listed as ``localhost``). The proxy
fetches it, shows its verified host on the consent page, and treats the
client like a registered public one: codes, refresh rotation, reuse
detection, revocation; approvals remembered by the URL; a changed document
takes effect at its next fetch.
"""

from __future__ import annotations

import html
import socket
import time

import pytest

from flask_mcp.auth.proxy import CIMDOptions

from .flow import REDIRECT_URI
from .flow import Flow
from .flow import pkce
from .flow import query

ALLOW_LOCALHOST = CIMDOptions(allow_hosts=("localhost",), timeout=2)


def client_of(url: str, redirect_uri: str = REDIRECT_URI) -> dict[str, object]:
    """What the test flow needs of a client: its id and redirect URI."""
    return {"client_id": url, "redirect_uris": [redirect_uri]}


@pytest.fixture
def cimd_flow(make_app, make_flow) -> Flow:
    return make_flow(make_app(cimd=ALLOW_LOCALHOST))


def test_sign_in_refresh_reuse_and_revocation(cimd_flow, documents, doc_path, later):
    url = documents.document(doc_path, client_name="Doc Client")
    client = client_of(url)
    tokens = cimd_flow.tokens(client)
    assert tokens["token_type"] == "Bearer"
    me = cimd_flow.whoami(tokens["access_token"]).json()
    assert me["client_id"] == url
    # Nothing was registered: the document is the client.
    app_state = cimd_flow.http.client.application.extensions["mcp_oauth"]
    assert app_state.storage.client(url) is None

    rotated = cimd_flow.refresh(client, tokens["refresh_token"])
    assert rotated.status == 200, rotated.text
    fresh = rotated.json()
    assert fresh["refresh_token"] != tokens["refresh_token"]
    assert cimd_flow.whoami(fresh["access_token"]).status == 200
    # The used refresh token again, after the grace: the whole family ends.
    later(6)
    reused = cimd_flow.refresh(client, tokens["refresh_token"])
    assert reused.status == 400 and reused.json()["error"] == "invalid_grant"
    assert cimd_flow.whoami(fresh["access_token"]).status == 401

    again = cimd_flow.tokens(client)
    revoked = cimd_flow.revoke(client, again["refresh_token"])
    assert revoked.status == 200
    assert cimd_flow.whoami(again["access_token"]).status == 401
    ended = cimd_flow.refresh(client, again["refresh_token"])
    assert ended.status == 400 and ended.json()["error"] == "invalid_grant"
    # Several sign-ins, refreshes and a revocation: one fetch (max-age=300).
    assert documents.hits(doc_path) == 1


def test_another_client_cannot_use_its_tokens(cimd_flow, documents, doc_path):
    url = documents.document(doc_path)
    other = documents.document(doc_path + "-other")
    tokens = cimd_flow.tokens(client_of(url))
    stolen = cimd_flow.refresh(client_of(other), tokens["refresh_token"])
    assert stolen.status == 400 and stolen.json()["error"] == "invalid_grant"
    # Presenting another client's refresh token ends that grant.
    assert cimd_flow.whoami(tokens["access_token"]).status == 401


def test_consent_page_shows_the_verified_host(cimd_flow, documents, doc_path):
    url = documents.document(
        doc_path,
        client_name="<i>Totally</i> Official",
        logo_uri="https://cdn.example.com/logo.png",
    )
    reply = cimd_flow.authorize(client_of(url), challenge=pkce()[1])
    assert reply.status == 302 and "/oauth/consent?txn=" in reply.location
    page = cimd_flow.get(reply.location)
    assert page.status == 200
    host = f"localhost:{documents.port}"
    assert f'<strong class="host">{host}</strong>' in page.text
    assert "Verified" in page.text and f"<code>{url}</code>" in page.text
    # Name and logo are the document's claims, marked as such, escaped.
    assert html.escape("<i>Totally</i> Official") in page.text
    assert "<i>Totally</i>" not in page.text
    assert "not verified" in page.text
    assert 'src="https://cdn.example.com/logo.png"' in page.text
    policy = page.headers["Content-Security-Policy"]
    assert "img-src 'self' data: https://cdn.example.com;" in policy
    assert "frame-ancestors 'none'" in policy
    # Its redirect URI is on loopback: anyone on this computer could listen.
    assert "an address\n     on this computer" in page.text


@pytest.fixture
def lookalike(make_app, make_flow, documents, doc_path, monkeypatch):
    """A client whose document is at ``https://аpple.test:PORT/...`` (a
    Cyrillic ``а``, served as ``xn--pple-43d.test``, resolved to loopback):
    ``(flow, authorization reply, consent page, shown host)``."""
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "xn--pple-43d.test":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    options = CIMDOptions(allow_hosts=("xn--pple-43d.test",), timeout=2)
    flow = make_flow(make_app(cimd=options))
    url = documents.document(doc_path, host="аpple.test", client_name="Apple Notes")
    reply = flow.authorize(client_of(url), challenge=pkce()[1])
    assert reply.status == 302 and "/oauth/consent?txn=" in reply.location
    assert documents.hosts(doc_path) == [f"xn--pple-43d.test:{documents.port}"]
    return flow, reply, flow.get(reply.location), f"аpple.test:{documents.port}"


def test_a_look_alike_verified_host_is_shown_in_both_forms(lookalike, documents):
    """Red team: a document at ``https://аpple.test/…`` (a Cyrillic ``а``,
    fetched from ``xn--pple-43d.test``) was shown as "Verified" apple."""
    flow, reply, page, host = lookalike
    assert f'Published at <strong class="host">{host}</strong>' in page.text
    assert f"(<code>xn--pple-43d.test:{documents.port}</code>)" in page.text
    assert f'class="warning">The name <strong>{host}</strong>' in page.text
    # Remembered, it is listed in both forms too.
    flow.consent(reply, remember=True)
    approvals = flow.get("/oauth/consent")
    assert f"(<code>xn--pple-43d.test:{documents.port}</code>)" in approvals.text


@pytest.mark.browser  # ChromiumBrowser is imported inside, from another folder
def test_the_look_alike_warning_in_a_browser(lookalike, documents):
    """The warning as a person sees it, in Debian's chromium; kept as
    ``tests/artifacts/consent/consent-lookalike.png`` (the docs show it)."""
    from oauth_e2e.browser import ChromiumBrowser
    from oauth_e2e.browser import save_screenshot

    from support import ARTIFACTS_DIR

    _, _, page, host = lookalike
    with ChromiumBrowser() as chromium:
        tab = chromium.browser.new_page(viewport={"width": 900, "height": 860})
        tab.set_content(page.text)
        text = tab.inner_text("body")
        assert f"xn--pple-43d.test:{documents.port}" in text
        words = " ".join(text.split())
        assert "Such names can imitate the name of a site you know" in words
        shot = save_screenshot(tab, ARTIFACTS_DIR / "consent" / "consent-lookalike.png")
    assert shot.stat().st_size > 10_000


def test_a_logo_that_is_not_https_is_not_shown(cimd_flow, documents, doc_path):
    url = documents.document(doc_path, logo_uri="http://cdn.example.com/logo.png")
    reply = cimd_flow.authorize(client_of(url), challenge=pkce()[1])
    page = cimd_flow.get(reply.location)
    assert "cdn.example.com" not in page.text
    assert "img-src 'self' data:;" in page.headers["Content-Security-Policy"]


def test_approvals_are_remembered_by_the_document_url(cimd_flow, documents, doc_path):
    url = documents.document(doc_path, client_name="Remembered")
    first = cimd_flow.login(client_of(url), remember=True)
    assert first.params["code"]
    # The same browser again: no consent page, straight to the upstream.
    reply = cimd_flow.authorize(client_of(url), challenge=pkce()[1])
    assert reply.status == 302 and "/oauth/consent" not in reply.location
    approvals = cimd_flow.get("/oauth/consent")
    assert f"<code>{url}</code>" in approvals.text
    assert f'<strong class="host">localhost:{documents.port}</strong>' in approvals.text
    # Another document on the same host is another client: asked again.
    other = documents.document(doc_path + "-2")
    reply = cimd_flow.authorize(client_of(other), challenge=pkce()[1])
    assert "/oauth/consent?txn=" in reply.location


def test_changed_redirect_uris_take_effect_at_the_next_fetch(
    make_app, make_flow, documents, doc_path
):
    options = CIMDOptions(allow_hosts=("localhost",), min_cache=1, max_cache=3)
    flow = make_flow(make_app(cimd=options))
    old, new = REDIRECT_URI, "http://127.0.0.1:8765/new-callback"
    url = documents.document(doc_path, redirect_uris=[old])
    assert flow.login(client_of(url, old)).params["code"]
    documents.document(doc_path, redirect_uris=[new])
    # Still the kept document: the new URI is unknown, the old one works.
    refused = flow.authorize(client_of(url, new), challenge=pkce()[1])
    assert refused.status == 400 and "invalid_request" in refused.text
    time.sleep(3.1)  # max_cache: kept 3s whatever its max-age=300 says
    # Fetched again: the new URI works, the old one is refused.
    assert flow.login(client_of(url, new)).params["code"]
    gone = flow.authorize(client_of(url, old), challenge=pkce()[1])
    assert gone.status == 400 and "invalid_request" in gone.text
    assert documents.hits(doc_path) == 2


def test_an_error_is_redirected_only_once_the_user_approved(
    cimd_flow, documents, doc_path
):
    url = documents.document(doc_path)
    bad_scope = {"challenge": pkce()[1], "scope": "admin:everything"}
    # Unapproved: the page, not a redirect to a URI the document chose.
    page = cimd_flow.authorize(client_of(url), **bad_scope)
    assert page.status == 400 and "invalid_scope" in page.text
    cimd_flow.login(client_of(url), remember=True)
    redirected = cimd_flow.authorize(client_of(url), **bad_scope)
    assert redirected.status == 302
    assert redirected.location.startswith(REDIRECT_URI)
    assert query(redirected.location)["error"] == "invalid_scope"


def test_url_client_ids_are_unknown_when_disabled(make_app, make_flow, documents):
    flow = make_flow(make_app(cimd=CIMDOptions(enabled=False)))
    url = documents.document("/disabled/client.json")
    page = flow.authorize(client_of(url), challenge=pkce()[1])
    assert page.status == 400 and "invalid_client" in page.text
    token = flow.post(
        "/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": "x", "client_id": url},
    )
    assert token.status == 401 and token.json()["error"] == "invalid_client"
    assert documents.hits("/disabled/client.json") == 0


@pytest.mark.browser
def test_consent_page_of_a_metadata_document_client_in_a_browser(
    cimd_flow, documents, doc_path
):
    """What a person sees, in Debian's chromium: the verified host first, the
    client's own name marked as unverified, the loopback warning. Kept as
    ``tests/artifacts/consent/consent-cimd.png`` (the docs show it)."""
    from oauth_e2e.browser import ChromiumBrowser
    from oauth_e2e.browser import save_screenshot

    from support import ARTIFACTS_DIR

    url = documents.document(doc_path, client_name="Example MCP Client")
    reply = cimd_flow.authorize(client_of(url), challenge=pkce()[1])
    page = cimd_flow.get(reply.location)
    host = f"localhost:{documents.port}"
    with ChromiumBrowser() as chromium:
        tab = chromium.browser.new_page(viewport={"width": 900, "height": 700})
        tab.set_content(page.text)
        heading = tab.inner_text("h1")
        assert heading == f"Allow the application of {host} to use this server?"
        text = tab.inner_text("body")
        assert "Example MCP Client" in text and "not verified" in text
        assert "on this computer" in text
        shot = save_screenshot(tab, ARTIFACTS_DIR / "consent" / "consent-cimd.png")
    assert shot.stat().st_size > 10_000
