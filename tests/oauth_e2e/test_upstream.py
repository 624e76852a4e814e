"""The harness itself: upstream.mjs is a working OIDC provider, and both
browser drivers get through its login and consent pages.

A plain authorization-code flow with PKCE straight against the upstream, as
the OAuth proxy will run it: the user signs in and consents, the code is
redeemed with the client secret (HTTP Basic and in the body), the userinfo
names the test user, the refresh token works, a revoked token is refused.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import typing as t
from urllib.parse import urlencode

import pytest
import requests

from .browser import EMAIL
from .browser import NAME
from .browser import SUBJECT
from .browser import ChromiumBrowser
from .browser import FlowError
from .browser import FormBrowser
from .browser import RedirectCatcher
from .conftest import Upstream

SCOPE = "openid email profile offline_access"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(64)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def authorization_url(
    upstream: Upstream, state: str, challenge: str | None, **extra: str
) -> str:
    params = {
        "response_type": "code",
        "client_id": upstream.client_id,
        "redirect_uri": extra.pop("redirect_uri", upstream.redirect_uri),
        "scope": SCOPE,
        "prompt": "consent",
        "state": state,
        "nonce": secrets.token_urlsafe(16),
        **extra,
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return upstream.metadata()["authorization_endpoint"] + "?" + urlencode(params)


def token_request(
    upstream: Upstream, data: dict[str, str], *, basic: bool
) -> requests.Response:
    if basic:
        auth = (upstream.client_id, upstream.client_secret)
        return requests.post(
            upstream.metadata()["token_endpoint"], data=data, auth=auth, timeout=10
        )
    body = data | {
        "client_id": upstream.client_id,
        "client_secret": upstream.client_secret,
    }
    return requests.post(upstream.metadata()["token_endpoint"], data=body, timeout=10)


def userinfo(upstream: Upstream, access_token: str) -> requests.Response:
    return requests.get(
        upstream.metadata()["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=10,
    )


def sign_in(upstream: Upstream, browser: FormBrowser) -> tuple[str, str, t.Any]:
    """Run the user part; return (code, verifier, result)."""
    verifier, challenge = pkce()
    state = secrets.token_urlsafe(16)
    result = browser.run(
        authorization_url(upstream, state, challenge), stop_at=upstream.redirect_uri
    )
    assert result.params["state"] == state
    assert result.params["iss"] == upstream.issuer
    return result.params["code"], verifier, result


def test_discovery_advertises_what_the_proxy_relies_on(upstream: Upstream) -> None:
    metadata = upstream.metadata()
    assert metadata["issuer"] == upstream.issuer
    assert metadata["code_challenge_methods_supported"] == ["S256"]
    assert {"client_secret_basic", "client_secret_post"} <= set(
        metadata["token_endpoint_auth_methods_supported"]
    )
    assert {"openid", "email", "profile", "offline_access"} <= set(
        metadata["scopes_supported"]
    )
    assert metadata["revocation_endpoint"] == upstream.issuer + "/token/revocation"
    assert metadata["authorization_response_iss_parameter_supported"] is True
    jwks = requests.get(metadata["jwks_uri"], timeout=10).json()
    assert [key["kid"] for key in jwks["keys"]] == ["upstream-rs256"]


def test_code_flow_with_pkce_refresh_and_revocation(upstream: Upstream) -> None:
    with FormBrowser(upstream=upstream.issuer) as browser:
        code, verifier, result = sign_in(upstream, browser)
    assert [page.action for page in result.pages if page.action != "redirect"] == [
        "login",
        "upstream-consent:approve",
    ]
    login = result.visited("login")[0]
    assert login.status == 200 and "flask_mcp OAuth proxy" in login.text

    exchange = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": upstream.redirect_uri,
        "code_verifier": verifier,
    }
    # A wrong verifier is refused (PKCE is enforced, not just accepted).
    wrong = token_request(upstream, exchange | {"code_verifier": pkce()[0]}, basic=True)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"

    code2, verifier2, _ = sign_in(upstream, FormBrowser(upstream=upstream.issuer))
    exchange |= {"code": code2, "code_verifier": verifier2}
    tokens = token_request(upstream, exchange, basic=True)
    assert tokens.status_code == 200, tokens.text
    body = tokens.json()
    assert body["token_type"] == "Bearer"
    assert {"access_token", "refresh_token", "id_token"} <= set(body)
    if upstream.resource:
        resource_server_tokens(upstream, body)
    else:
        assert set(body["scope"].split()) == set(SCOPE.split())
        assert userinfo(upstream, body["access_token"]).json() == {
            "sub": SUBJECT,
            "email": EMAIL,
            "email_verified": True,
            "name": NAME,
        }

    # Refresh, authenticating in the body this time.
    refreshed = token_request(
        upstream,
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        basic=False,
    )
    assert refreshed.status_code == 200, refreshed.text
    new_access = refreshed.json()["access_token"]
    assert new_access != body["access_token"]
    if upstream.resource:
        resource_server_tokens(upstream, refreshed.json())
        # Structured access tokens cannot be revoked: the refresh token can.
        revoke(upstream, refreshed.json()["refresh_token"], "refresh_token")
        again = token_request(
            upstream,
            {
                "grant_type": "refresh_token",
                "refresh_token": refreshed.json()["refresh_token"],
            },
            basic=True,
        )
        assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    else:
        assert userinfo(upstream, new_access).json()["sub"] == SUBJECT
        # RFC 7009 revocation: the token is refused afterwards.
        revoke(upstream, new_access, "access_token")
        assert userinfo(upstream, new_access).status_code == 401

    # The code is single use; replaying it also revokes the whole grant.
    again = token_request(upstream, exchange, basic=False)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"

    paths = [hit["path"] for hit in upstream.hits()]
    assert {"/auth", "/token", "/me", "/token/revocation"} <= set(paths)
    grants = [hit.get("grant_type") for hit in upstream.hits("/token")]
    assert "refresh_token" in grants and "authorization_code" in grants


def resource_server_tokens(upstream: Upstream, body: dict[str, t.Any]) -> None:
    """Access tokens of the resource-indicators upstream: JWTs for its resource
    server, refused by its userinfo endpoint."""
    claims = json.loads(
        base64.urlsafe_b64decode(body["access_token"].split(".")[1] + "==")
    )
    assert claims["aud"] == upstream.resource and claims["sub"] == SUBJECT
    refused = userinfo(upstream, body["access_token"])
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]


def revoke(upstream: Upstream, token: str, hint: str) -> None:
    revoked = requests.post(
        upstream.metadata()["revocation_endpoint"],
        data={"token": token, "token_type_hint": hint},
        auth=(upstream.client_id, upstream.client_secret),
        timeout=10,
    )
    assert revoked.status_code == 200, revoked.text


def test_pkce_is_required(upstream: Upstream) -> None:
    with FormBrowser(upstream=upstream.issuer) as browser:
        result = browser.run(
            authorization_url(upstream, "s1", None), stop_at=upstream.redirect_uri
        )
    assert result.params["error"] == "invalid_request"
    assert "PKCE" in result.params["error_description"]


def test_a_wrong_password_is_refused(upstream: Upstream) -> None:
    browser = FormBrowser(upstream=upstream.issuer, password="not-the-password")
    browser.max_steps = 6
    with browser, pytest.raises(FlowError, match="no redirect"):
        browser.run(
            authorization_url(upstream, "s2", pkce()[1]), stop_at=upstream.redirect_uri
        )
    logins = [page for page in browser.pages if page.action == "login"]
    assert len(logins) >= 2
    assert all("Wrong username or password." in page.text for page in logins[1:])
    assert not any(page.header("Location") for page in logins)


@pytest.mark.parametrize("java_script", [True, False], ids=["js", "no-js"])
def test_chromium_gets_through_the_upstream_pages(
    upstream: Upstream, catcher: RedirectCatcher, java_script: bool
) -> None:
    _, challenge = pkce()
    redirect = {"redirect_uri": catcher.redirect_uri}
    with ChromiumBrowser() as chromium:
        allowed = chromium.run(
            authorization_url(upstream, "allow-me", challenge, **redirect),
            stop_at=catcher.redirect_uri,
            upstream=upstream.issuer,
            java_script=java_script,
        )
        denied = chromium.run(
            authorization_url(upstream, "deny-me", challenge, **redirect),
            stop_at=catcher.redirect_uri,
            upstream=upstream.issuer,
            upstream_decision="deny",
            java_script=java_script,
        )
    assert allowed.params["state"] == "allow-me" and allowed.params["code"]
    assert allowed.params["iss"] == upstream.issuer
    assert [p.action for p in allowed.pages if p.action != "redirect"] == [
        "login",
        "upstream-consent:approve",
        "",  # the client's page
    ]
    assert catcher.arrivals[-2:] == [allowed.location, denied.location]
    assert denied.params["state"] == "deny-me"
    assert denied.params["error"] == "access_denied"
    assert "code" not in denied.params
