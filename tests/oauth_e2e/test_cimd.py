"""The official MCP client identified by a Client ID Metadata Document.

``OAuthClientProvider(..., client_metadata_url=...)`` sees
``client_id_metadata_document_supported`` in the proxy's metadata and uses
the URL of its document as its ``client_id`` instead of registering. The
document is served over HTTPS on loopback (``documents``: a test CA trusted
by the proxy through ``REQUESTS_CA_BUNDLE``; ``localhost`` allow-listed by
``EXAMPLE_CIMD_ALLOW_HOSTS``). The example app under gunicorn (2 workers,
Redis) runs the proxy in front of the real OIDC upstream: the user signs in
there and approves the consent page, which names the verified host; the
client calls ``whoami``, refreshes, and revokes its tokens.
"""

from __future__ import annotations

import re
import time
import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urlsplit

import pytest
from proxy.documents import DocumentServer

from .browser import EMAIL
from .browser import SUBJECT
from .browser import RedirectCatcher
from .conftest import Proxy
from .helpers import CLIENT_NAME
from .helpers import mcp_post
from .helpers import metadata
from .helpers import official_client
from .helpers import revoke_call
from .helpers import token_call
from .helpers import tool_text
from .test_oauth_flow import decode_access_token


@pytest.fixture
def document(
    request: pytest.FixtureRequest, documents: DocumentServer, catcher: RedirectCatcher
) -> tuple[str, str]:
    """``(path, url)`` of this test's client metadata document."""
    path = "/" + re.sub(r"[^A-Za-z0-9_-]", "-", request.node.name) + "/client.json"
    url = documents.document(
        path,
        client_name=CLIENT_NAME,
        client_uri="https://client.example/",
        redirect_uris=[catcher.redirect_uri],
    )
    return path, url


def refresh_grant(refresh_token: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "refresh_token": refresh_token}


def test_the_advertisement(proxy: Proxy) -> None:
    asm = metadata(proxy)
    assert asm["client_id_metadata_document_supported"] is True
    assert "none" in asm["token_endpoint_auth_methods_supported"]


def test_the_official_client_signs_in_with_its_document(
    proxy: Proxy,
    catcher: RedirectCatcher,
    documents: DocumentServer,
    document: tuple[str, str],
) -> None:
    path, url = document
    client = official_client(proxy, catcher.redirect_uri, client_metadata_url=url)
    result = client.call_sync(proxy.mcp_url, "whoami")
    assert not result.is_error, tool_text(result)
    assert SUBJECT in tool_text(result) and EMAIL in tool_text(result)

    # No registration: the document's URL is the client id.
    paths = [path for _, path, _ in client.recorder.summary()]
    assert "/oauth/register" not in paths
    assert ("POST", "/oauth/token", 200) in client.recorder.summary()
    info = client.storage.client_info
    assert info is not None and info.client_id == url
    [authorization_url] = client.authorizer.authorization_urls
    assert dict(parse_qsl(urlsplit(authorization_url).query))["client_id"] == url
    token_request = client.recorder.at("/oauth/token")[0]
    assert token_request.form["client_id"] == url
    assert "client_secret" not in token_request.form

    # The consent page names the verified host, the name as a claim.
    [flow] = client.authorizer.results
    [consent] = flow.visited("consent:")
    assert consent.origin == proxy.url
    assert f'<strong class="host">localhost:{documents.port}</strong>' in consent.text
    assert CLIENT_NAME in consent.text and "not verified" in consent.text

    # The proxy's token names the document as its client.
    tokens = client.storage.tokens
    assert tokens is not None and tokens.refresh_token
    assert decode_access_token(proxy, tokens.access_token).claims["client_id"] == url
    # Both workers served the flow (authorize, consent, callback, token); the
    # document was fetched once, into Redis.
    assert documents.hits(path) == 1
    assert documents.hosts(path) == [f"localhost:{documents.port}"]


def test_refresh_and_revocation_for_a_document_client(
    proxy: Proxy,
    catcher: RedirectCatcher,
    documents: DocumentServer,
    document: tuple[str, str],
) -> None:
    path, url = document
    client = official_client(proxy, catcher.redirect_uri, client_metadata_url=url)
    assert SUBJECT in tool_text(client.call_sync(proxy.mcp_url, "whoami"))
    before = client.storage.tokens
    assert before is not None and before.refresh_token

    # The client refreshes by itself before its next call.
    client.oauth.context.token_expiry_time = time.time() - 1
    assert SUBJECT in tool_text(client.call_sync(proxy.mcp_url, "whoami"))
    after = client.storage.tokens
    assert after is not None and after.access_token != before.access_token
    refreshes = [
        e
        for e in client.recorder.at("/oauth/token")
        if e.form.get("grant_type") == "refresh_token"
    ]
    assert [(e.status, e.form["client_id"]) for e in refreshes] == [(200, url)]
    assert len(client.authorizer.results) == 1, "refresh must not need the user"

    # The rotated-out refresh token is refused, and its reuse ends the grant.
    info: dict[str, t.Any] = {"client_id": url, "token_endpoint_auth_method": "none"}
    replay = token_call(proxy, info, refresh_grant(before.refresh_token))
    assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
    assert mcp_post(proxy, after.access_token).status_code == 401

    # A new sign-in, then RFC 7009 revocation by the public client.
    fresh = official_client(proxy, catcher.redirect_uri, client_metadata_url=url)
    assert SUBJECT in tool_text(fresh.call_sync(proxy.mcp_url, "whoami"))
    tokens = fresh.storage.tokens
    assert tokens is not None and tokens.refresh_token
    assert mcp_post(proxy, tokens.access_token).status_code == 200
    revoked = revoke_call(proxy, info, tokens.refresh_token, "refresh_token")
    assert revoked.status_code == 200, revoked.text
    assert {mcp_post(proxy, tokens.access_token).status_code for _ in range(4)} == {401}
    ended = token_call(proxy, info, refresh_grant(tokens.refresh_token))
    assert ended.status_code == 400 and ended.json()["error"] == "invalid_grant"
    assert documents.hits(path) == 1
