"""The OAuth proxy end to end, real parts only.

Redis, a real OpenID Connect upstream (npm oidc-provider 9 on Node 22,
``upstream.mjs``) and ``example_app:create_app()`` under gunicorn with two
sync workers, configured by ``EXAMPLE_OIDC_*`` to run the OAuth proxy in
front of that upstream. The official MCP Python client
(``mcp.client.auth.OAuthClientProvider``) signs in by itself: it is refused,
discovers the protected resource and authorization server metadata,
registers (RFC 7591), sends the user to ``/oauth/authorize`` with PKCE, where
a :class:`~.browser.FormBrowser` signs in at the upstream and approves the
consent page; the proxy redeems the upstream code, the client redeems the
proxy's code, and ``whoami`` names the upstream user. Gunicorn is restarted
between registration and the token exchange. Then refresh and RFC 7009
revocation, with the client's own tokens and directly at the endpoints.
"""

from __future__ import annotations

import time
import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urljoin
from urllib.parse import urlsplit

import requests
from joserfc import jwt
from joserfc.jwk import KeySet

from .browser import EMAIL
from .browser import SUBJECT
from .browser import FormBrowser
from .browser import RedirectCatcher
from .browser import choose_button
from .conftest import Proxy
from .helpers import ASM_PATH
from .helpers import CLIENT_NAME
from .helpers import PRM_PATH
from .helpers import authorize_url
from .helpers import mcp_post
from .helpers import metadata
from .helpers import official_client
from .helpers import pkce
from .helpers import register
from .helpers import revoke_call
from .helpers import token_call
from .helpers import tool_text


def decode_access_token(proxy: Proxy, token: str) -> jwt.Token:
    """The proxy's access token, its signature checked against its jwks_uri."""
    jwks = requests.get(metadata(proxy)["jwks_uri"], timeout=10)
    assert jwks.status_code == 200
    return jwt.decode(token, KeySet.import_key_set(jwks.json()))


def test_discovery_documents(proxy: Proxy) -> None:
    refused = mcp_post(proxy, None)
    assert refused.status_code == 401
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.startswith("Bearer ")
    assert f'resource_metadata="{proxy.url}{PRM_PATH}"' in challenge

    prm = requests.get(proxy.url + PRM_PATH, timeout=10).json()
    assert prm["resource"] == proxy.mcp_url
    assert prm["authorization_servers"] == [metadata(proxy)["issuer"]]

    asm = metadata(proxy)
    base = proxy.url + "/oauth"
    assert asm["issuer"] in (proxy.url, proxy.url + "/")
    assert asm["authorization_endpoint"] == base + "/authorize"
    assert asm["token_endpoint"] == base + "/token"
    assert asm["registration_endpoint"] == base + "/register"
    assert asm["revocation_endpoint"] == base + "/revoke"
    assert asm["jwks_uri"] == base + "/jwks"
    assert asm["code_challenge_methods_supported"] == ["S256"]
    assert asm["response_types_supported"] == ["code"]
    assert {"authorization_code", "refresh_token"} <= set(asm["grant_types_supported"])
    # Never the upstream's endpoints: clients only ever talk to the proxy.
    upstream = proxy.upstream.issuer
    assert not any(isinstance(v, str) and v.startswith(upstream) for v in asm.values())


def test_the_official_client_signs_in_through_the_proxy(
    proxy: Proxy, catcher: RedirectCatcher
) -> None:
    restarts: list[str] = []

    def restart(when: str) -> t.Callable[[], None]:
        def run() -> None:
            proxy.restart()
            restarts.append(when)

        return run

    client = official_client(
        proxy,
        catcher.redirect_uri,
        between={"authorize": restart("authorize"), "token": restart("token")},
    )
    mark = proxy.upstream.mark()
    result = client.call_sync(proxy.mcp_url, "whoami")

    # whoami names the upstream user.
    assert not result.is_error, tool_text(result)
    text = tool_text(result)
    assert SUBJECT in text and EMAIL in text, text
    assert restarts == ["authorize", "token"]

    # What the client did: refused, discovery, registration, token, retry.
    summary = client.recorder.summary()
    assert summary[0] == ("POST", "/mcp", 401), summary
    paths = [path for _, path, _ in summary]
    order = [PRM_PATH, ASM_PATH, "/oauth/register", "/oauth/token"]
    assert all(path in paths for path in order), summary
    assert [paths.index(p) for p in order] == sorted(paths.index(p) for p in order)
    assert ("POST", "/oauth/register", 201) in summary
    assert ("POST", "/oauth/token", 200) in summary
    assert summary[-1][2] < 300 and summary[-1][1] == "/mcp", summary
    token_request = client.recorder.at("/oauth/token")[0]
    assert token_request.form["grant_type"] == "authorization_code"
    assert len(token_request.form["code_verifier"]) >= 43
    assert token_request.form["resource"] == proxy.mcp_url

    # The registration the client holds.
    info = client.storage.client_info
    assert info is not None and info.client_id and info.client_name == CLIENT_NAME

    # The authorization request: PKCE S256, resource, state; to the proxy.
    [authorization_url] = client.authorizer.authorization_urls
    assert authorization_url.startswith(proxy.url + "/oauth/authorize?")
    query = dict(parse_qsl(urlsplit(authorization_url).query))
    assert query["code_challenge_method"] == "S256"
    assert query["resource"] == proxy.mcp_url
    assert query["client_id"] == info.client_id

    # The user's part: upstream login and the proxy's consent page.
    [flow] = client.authorizer.results
    actions = [page.action for page in flow.pages if page.action != "redirect"]
    assert "login" in actions and "consent:approve" in actions, actions
    [consent] = flow.visited("consent:")
    assert consent.origin == proxy.url
    assert consent.status == 200
    assert consent.header("X-Frame-Options") == "DENY"
    assert CLIENT_NAME in consent.text
    assert any(
        c.type == "hidden" and c.name and "csrf" in c.name.lower()
        for form in consent.forms
        for c in form.controls
    ), "no CSRF field in the consent form"
    [login] = flow.visited("login")
    assert login.origin == proxy.upstream.issuer
    # The redirect to the client: RFC 9207 iss, our state.
    assert flow.location.startswith(catcher.redirect_uri + "?")
    assert flow.params["iss"] == metadata(proxy)["issuer"]
    assert flow.params["state"] == query["state"]

    # The proxy went to the upstream with its own PKCE leg and redeemed the code.
    upstream_authorize = proxy.upstream.hits("/auth", since=mark)[0]
    assert upstream_authorize["query"]["code_challenge_method"] == "S256"
    assert upstream_authorize["query"]["redirect_uri"] == proxy.upstream.redirect_uri
    assert upstream_authorize["query"]["client_id"] == proxy.upstream.client_id
    assert upstream_authorize["status"] in (302, 303)
    grants = [h.get("grant_type") for h in proxy.upstream.hits("/token", since=mark)]
    assert grants == ["authorization_code"]

    # The proxy's own token, not the upstream's (no token passthrough).
    tokens = client.storage.tokens
    assert tokens is not None and tokens.refresh_token
    assert tokens.token_type == "Bearer" and tokens.expires_in
    decoded = decode_access_token(proxy, tokens.access_token)
    assert decoded.header["typ"].lower() in ("at+jwt", "application/at+jwt")
    claims = decoded.claims
    assert claims["iss"] == metadata(proxy)["issuer"]
    audience = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert proxy.mcp_url in audience
    assert claims["client_id"] == info.client_id
    assert claims["exp"] > time.time()
    userinfo = requests.get(
        proxy.upstream.metadata()["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens.access_token}"},
        timeout=10,
    )
    assert userinfo.status_code == 401
    assert mcp_post(proxy, tokens.access_token).status_code == 200


def test_refresh(proxy: Proxy, catcher: RedirectCatcher) -> None:
    client = official_client(proxy, catcher.redirect_uri)
    first = client.call_sync(proxy.mcp_url, "whoami")
    assert SUBJECT in tool_text(first)
    before = client.storage.tokens
    assert before is not None and before.refresh_token

    # The client thinks its token expired: it refreshes before the next call.
    client.oauth.context.token_expiry_time = time.time() - 1
    second = client.call_sync(proxy.mcp_url, "whoami")
    assert SUBJECT in tool_text(second) and EMAIL in tool_text(second)
    after = client.storage.tokens
    assert after is not None and after.access_token != before.access_token
    refreshes = [
        e
        for e in client.recorder.at("/oauth/token")
        if e.form.get("grant_type") == "refresh_token"
    ]
    assert [e.status for e in refreshes] == [200]
    assert refreshes[0].form["refresh_token"] == before.refresh_token
    assert len(client.authorizer.results) == 1, "refresh must not need the user"
    assert mcp_post(proxy, after.access_token).status_code == 200

    # Directly at the token endpoint with the refresh token.
    info = client.storage.client_info.model_dump(mode="json", exclude_none=True)
    direct = token_call(
        proxy,
        info,
        {"grant_type": "refresh_token", "refresh_token": after.refresh_token},
    )
    assert direct.status_code == 200, direct.text
    body = direct.json()
    assert body["token_type"].lower() == "bearer" and body["access_token"]
    assert body["access_token"] != after.access_token
    assert mcp_post(proxy, body["access_token"]).status_code == 200
    current = body.get("refresh_token") or after.refresh_token

    # Another client cannot use it.
    stranger = register(proxy, catcher.redirect_uri, token_endpoint_auth_method="none")
    foreign = token_call(
        proxy, stranger, {"grant_type": "refresh_token", "refresh_token": current}
    )
    assert foreign.status_code in (400, 401)
    assert foreign.json()["error"] in ("invalid_grant", "invalid_client")

    # A rotated refresh token cannot be used twice (OAuth 2.1, section 4.3.1),
    # and its reuse ends the whole grant (RFC 9700, section 4.14.2).
    if current != after.refresh_token:
        replay = token_call(
            proxy,
            info,
            {"grant_type": "refresh_token", "refresh_token": after.refresh_token},
        )
        assert replay.status_code == 400 and replay.json()["error"] == "invalid_grant"
        ended = token_call(
            proxy, info, {"grant_type": "refresh_token", "refresh_token": current}
        )
        assert ended.status_code == 400 and ended.json()["error"] == "invalid_grant"


def test_revocation(proxy: Proxy, catcher: RedirectCatcher) -> None:
    client = official_client(proxy, catcher.redirect_uri)
    assert SUBJECT in tool_text(client.call_sync(proxy.mcp_url, "whoami"))
    tokens = client.storage.tokens
    assert tokens is not None and tokens.refresh_token
    info = client.storage.client_info.model_dump(mode="json", exclude_none=True)
    assert mcp_post(proxy, tokens.access_token).status_code == 200

    mark = proxy.upstream.mark()

    # RFC 7009 at the advertised endpoint: the access token is refused afterwards.
    revoked = revoke_call(proxy, info, tokens.access_token, "access_token")
    assert revoked.status_code == 200, revoked.text
    refused = mcp_post(proxy, tokens.access_token)
    assert refused.status_code == 401
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    # ... by every worker.
    assert {mcp_post(proxy, tokens.access_token).status_code for _ in range(6)} == {401}

    # Revoking the refresh token ends the grant.
    assert (
        revoke_call(proxy, info, tokens.refresh_token, "refresh_token").status_code
        == 200
    )
    refresh = token_call(
        proxy,
        info,
        {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token},
    )
    assert refresh.status_code == 400 and refresh.json()["error"] == "invalid_grant"

    # Ending the grant revoked the upstream tokens behind it.
    upstream_revocations = proxy.upstream.hits("/token/revocation", since=mark)
    assert upstream_revocations and upstream_revocations[-1]["status"] == 200

    # Unknown or already revoked tokens: still 200 (RFC 7009, section 2.2).
    assert revoke_call(proxy, info, "not-a-token").status_code == 200
    assert revoke_call(proxy, info, tokens.access_token).status_code == 200


def test_consent_form_refuses_a_forged_csrf_token(
    proxy: Proxy, catcher: RedirectCatcher
) -> None:
    client = register(proxy, catcher.redirect_uri)
    _, challenge = pkce()
    url = authorize_url(proxy, client, state="csrf-1", challenge=challenge)
    with FormBrowser(upstream=proxy.upstream.issuer) as browser:
        reached = browser.run(url, stop_at=catcher.redirect_uri, decision=None)
        page = reached.pages[-1]
        assert page.action == "consent:stop" and page.origin == proxy.url
        form, button = choose_button(page.forms, "approve")
        fields = form.fields(button)
        csrf = [name for name, _ in fields if "csrf" in name.lower()]
        assert csrf, fields
        target = urljoin(page.url, form.action or page.url)
        forged = browser.http.post(
            target,
            data=[(n, "forged" if n in csrf else v) for n, v in fields],
            allow_redirects=False,
            timeout=10,
        )
        missing = browser.http.post(
            target,
            data=[(n, v) for n, v in fields if n not in csrf],
            allow_redirects=False,
            timeout=10,
        )
        # The same form from another browser (no cookies of this one).
        elsewhere = requests.post(
            target, data=fields, allow_redirects=False, timeout=10
        )
    for refused in (forged, missing, elsewhere):
        assert refused.status_code in (400, 403), (
            refused.status_code,
            refused.text[:500],
        )
        assert not refused.headers.get("Location", "").startswith(catcher.redirect_uri)
    assert not any(arrival.endswith("state=csrf-1") for arrival in catcher.arrivals)
