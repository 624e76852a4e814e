"""The proxy's consent page in a real browser (Playwright + Debian chromium).

A client registered at ``POST /oauth/register`` sends the user to
``/oauth/authorize`` (PKCE S256, state, ``resource`` = the MCP endpoint). The
browser signs in at the upstream and meets the consent page, which names the
client, the host it will be sent back to and the scopes; it must not be
framable (``X-Frame-Options: DENY``) and must work without JavaScript. Approve
ends at the client's redirect URI with ``code``, ``state`` and ``iss`` (and the
code is redeemable); Deny ends there with ``error=access_denied``. The
approved page is kept as ``tests/artifacts/consent/consent.png``.
"""

from __future__ import annotations

import secrets
import typing as t
from urllib.parse import urlsplit

import pytest
import requests

from support import ARTIFACTS_DIR

from .browser import ChromiumBrowser
from .browser import Decision
from .browser import Page
from .browser import RedirectCatcher
from .browser import save_screenshot
from .conftest import Proxy
from .helpers import CLIENT_NAME
from .helpers import PRM_PATH
from .helpers import authorize_url
from .helpers import metadata
from .helpers import pkce
from .helpers import register
from .helpers import token_call

SCREENSHOT = ARTIFACTS_DIR / "consent" / "consent.png"


@pytest.fixture(scope="module")
def chromium() -> t.Iterator[ChromiumBrowser]:
    with ChromiumBrowser() as browser:
        yield browser


def requested_scopes(proxy: Proxy) -> list[str]:
    """Every scope the server advertises (possibly none)."""
    prm = requests.get(proxy.url + PRM_PATH, timeout=10).json()
    return list(
        prm.get("scopes_supported") or metadata(proxy).get("scopes_supported") or []
    )


@pytest.mark.parametrize(
    ("decision", "java_script"),
    [("approve", True), ("deny", True), ("approve", False)],
    ids=["approve", "deny", "approve-without-javascript"],
)
def test_consent_page(
    proxy: Proxy,
    catcher: RedirectCatcher,
    chromium: ChromiumBrowser,
    decision: Decision,
    java_script: bool,
) -> None:
    client = register(proxy, catcher.redirect_uri)
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(16)
    scopes = requested_scopes(proxy)
    assert scopes, "the server advertises no scopes: nothing to show on consent"
    url = authorize_url(
        proxy, client, state=state, challenge=challenge, scope=" ".join(scopes) or None
    )
    seen: list[tuple[str, Page]] = []

    def on_consent(page: t.Any, recorded: Page) -> None:
        seen.append((page.locator("body").inner_text(), recorded))
        if decision == "approve" and java_script:
            save_screenshot(page, SCREENSHOT)

    result = chromium.run(
        url,
        stop_at=catcher.redirect_uri,
        upstream=proxy.upstream.issuer,
        decision=decision,
        java_script=java_script,
        on_consent=on_consent,
    )

    # The consent page the user saw.
    [(text, consent)] = seen
    assert consent.origin == proxy.url
    assert consent.status == 200
    assert consent.header("x-frame-options") == "DENY"
    assert CLIENT_NAME in text
    assert urlsplit(catcher.redirect_uri).netloc in text
    for scope in scopes:
        assert scope in text, (scope, text)
    if decision == "approve" and java_script:
        assert SCREENSHOT.stat().st_size > 1000

    # Where it ended: the client's redirect URI, with the proxy as issuer.
    assert result.location.startswith(catcher.redirect_uri + "?")
    assert catcher.arrivals[-1] == result.location
    params = result.params
    assert params["state"] == state
    assert params["iss"] == metadata(proxy)["issuer"]
    if decision == "deny":
        assert params["error"] == "access_denied"
        assert "code" not in params
        return
    assert "error" not in params and params["code"]
    # The code is real: redeemed once with the PKCE verifier.
    exchange = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "redirect_uri": catcher.redirect_uri,
        "code_verifier": verifier,
        "resource": proxy.mcp_url,
    }
    tokens = token_call(proxy, client, exchange)
    assert tokens.status_code == 200, tokens.text
    assert tokens.json()["access_token"]
    again = token_call(proxy, client, exchange)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
