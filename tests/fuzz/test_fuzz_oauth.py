"""Fuzz the OAuth endpoints of the example app in proxy mode.

Client endpoints (register, token, revoke) answer JSON, with an ``error``
member when they refuse (:rfc:`6749#section-5.2`, :rfc:`7591#section-3.2.2`);
browser endpoints (authorize, consent, callback) answer a redirect or an HTML
page. Never a 5xx, never a logged traceback.
"""

from __future__ import annotations

import base64
import json
import typing as t
from urllib.parse import quote_from_bytes

from flask import Flask
from flask.testing import FlaskClient
from hypothesis import given
from hypothesis import strategies as st
from proxy.flow import REDIRECT_URI
from proxy.flow import FlaskHttp
from proxy.flow import Flow
from proxy.flow import hidden
from proxy.flow import pkce

from .harness import FUZZ
from .harness import check_oauth
from .harness import send
from .strategies import any_json
from .strategies import encode
from .strategies import form_text
from .strategies import header_text
from .strategies import mutated

MCP_URL = "http://localhost/mcp"
REGISTRATION = {
    "client_name": "Fuzz Client",
    "redirect_uris": [REDIRECT_URI],
    "token_endpoint_auth_method": "none",
    "grant_types": ["authorization_code", "refresh_token"],
    "response_types": ["code"],
    "scope": "data:read",
    "client_uri": "https://client.example",
    "logo_uri": "https://client.example/logo.png",
    "contacts": ["a@client.example"],
}


def values(*valid: str) -> st.SearchStrategy[str | None]:
    """Absent, a valid value, or any text."""
    return st.one_of(st.none(), st.sampled_from(valid), form_text)


def present(params: dict[str, str | None]) -> dict[str, str]:
    return {name: value for name, value in params.items() if value is not None}


def flow(app: Flask) -> Flow:
    """A browser with its own cookie jar."""
    return Flow(FlaskHttp(app.test_client()), MCP_URL)


def registered(app: Flask, **metadata: t.Any) -> dict[str, t.Any]:
    return flow(app).register(**metadata)


def attack(
    app: Flask, kind: str, method: str, path: str, *, browser: bool, **request: t.Any
) -> None:
    """One request from a fresh client (no cookies), and the check of its answer."""
    answer = send(app.test_client(), kind, method, path, **request)
    check_oauth(answer, f"{method} {path} {request!r:.500}", browser=browser)


@FUZZ
@given(
    body=st.one_of(any_json, mutated(REGISTRATION)),
    content_type=st.sampled_from(["application/json", "text/plain", ""]),
)
def test_registration_of_any_metadata(
    proxy_app: Flask, body: t.Any, content_type: str
) -> None:
    attack(
        proxy_app,
        "register",
        "POST",
        "/oauth/register",
        browser=False,
        data=encode(body),
        headers={"Content-Type": content_type} if content_type else {},
    )


def authorize(app: Flask, query: str | dict[str, str]) -> None:
    attack(
        app, "authorize", "GET", "/oauth/authorize", browser=True, query_string=query
    )


@FUZZ
@given(data=st.data())
def test_authorization_requests_with_any_query(
    proxy_app: Flask, data: st.DataObject
) -> None:
    client = registered(proxy_app)
    verifier, challenge = pkce()
    query = present(
        {
            "response_type": data.draw(values("code", "token", "code id_token")),
            "client_id": data.draw(values(client["client_id"])),
            "redirect_uri": data.draw(
                values(REDIRECT_URI, "https://evil.example/cb", REDIRECT_URI + "/..")
            ),
            "scope": data.draw(values("data:read", "data:read data:write", "openid")),
            "state": data.draw(values("s")),
            "code_challenge": data.draw(values(challenge, verifier)),
            "code_challenge_method": data.draw(values("S256", "plain")),
            "resource": data.draw(values(MCP_URL, "https://other.example/mcp")),
            data.draw(form_text): data.draw(form_text),
        }
    )
    authorize(proxy_app, query)


@FUZZ
@given(raw=st.binary(max_size=200))
def test_authorization_requests_with_any_query_bytes(
    proxy_app: Flask, raw: bytes
) -> None:
    query = quote_from_bytes(raw, safe="=&;+")
    authorize(proxy_app, query)


def id_jag(app: Flask) -> str:
    """A well-formed ID-JAG of the fuzz app's enterprise IdP, whose key set is
    empty: no assertion is accepted, every one is checked that far."""
    (issuer,) = app.extensions["mcp_oauth"].server.assertions.idps
    parts = (
        {"typ": "oauth-id-jag+jwt", "alg": "ES256", "kid": "k"},
        {
            "iss": issuer,
            "sub": "s",
            "aud": "http://localhost",
            "client_id": "c",
            "jti": "j",
            "iat": 1,
            "exp": 9999999999,
            "resource": MCP_URL,
        },
    )
    encoded = [
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()
        for part in parts
    ]
    return ".".join([*encoded, "c2lnbmF0dXJl"])


def basic(user: str, password: str) -> str:
    raw = f"{user}:{password}".encode("utf-8", "surrogatepass")
    return "Basic " + base64.b64encode(raw).decode()


@FUZZ
@given(data=st.data())
def test_token_requests_with_any_form(proxy_app: Flask, data: st.DataObject) -> None:
    client = registered(proxy_app)
    form = present(
        {
            "grant_type": data.draw(
                values(
                    "authorization_code",
                    "refresh_token",
                    "client_credentials",
                    "urn:ietf:params:oauth:grant-type:jwt-bearer",
                )
            ),
            "assertion": data.draw(values(id_jag(proxy_app))),
            "code": data.draw(values("x" * 43)),
            "redirect_uri": data.draw(values(REDIRECT_URI)),
            "code_verifier": data.draw(values("v" * 43)),
            "client_id": data.draw(values(client["client_id"])),
            "client_secret": data.draw(values("secret")),
            "refresh_token": data.draw(values("r" * 43)),
            "resource": data.draw(values(MCP_URL)),
            "scope": data.draw(values("data:read")),
        }
    )
    headers = present(
        {
            "Authorization": data.draw(
                st.one_of(
                    st.none(),
                    header_text,
                    st.builds(basic, form_text, form_text),
                )
            ),
            "Content-Type": data.draw(
                st.sampled_from(
                    [None, "application/x-www-form-urlencoded", "application/json"]
                )
            ),
        }
    )
    attack(
        proxy_app,
        "token",
        "POST",
        "/oauth/token",
        browser=False,
        data=form,
        headers=headers,
    )


@FUZZ
@given(data=st.data())
def test_revocation_requests_with_any_form(
    proxy_app: Flask, data: st.DataObject
) -> None:
    client = registered(proxy_app)
    form = present(
        {
            "token": data.draw(values("t" * 43)),
            "token_type_hint": data.draw(values("access_token", "refresh_token")),
            "client_id": data.draw(values(client["client_id"])),
        }
    )
    auth = data.draw(st.one_of(st.none(), st.builds(basic, form_text, form_text)))
    attack(
        proxy_app,
        "revoke",
        "POST",
        "/oauth/revoke",
        browser=False,
        data=form,
        headers=present({"Authorization": auth}),
    )


def pending_consent(app: Flask) -> tuple[FlaskClient, str, str]:
    """A browser at the consent page of a fresh client: (client, txn, csrf)."""
    browser = flow(app)
    client = browser.register()
    _, challenge = pkce()
    reply = browser.authorize(client, challenge=challenge, scope="data:read")
    assert reply.status == 302 and "/oauth/consent" in reply.location, reply.text
    page = browser.get(reply.location)
    assert page.status == 200, page.text
    http = t.cast(FlaskHttp, browser.http)
    return http.client, hidden(page.text, "txn"), hidden(page.text, "csrf_token")


@FUZZ
@given(data=st.data())
def test_consent_form_with_any_fields(proxy_app: Flask, data: st.DataObject) -> None:
    client, txn, csrf = pending_consent(proxy_app)
    if data.draw(st.booleans()):  # a browser without the cookie
        client = proxy_app.test_client()
    form = present(
        {
            "action": data.draw(values("approve", "deny", "forget")),
            "txn": data.draw(values(txn)),
            "csrf_token": data.draw(values(csrf)),
            "client_id": data.draw(values("c")),
            "remember": data.draw(values("1")),
        }
    )
    answer = send(client, "consent", "POST", "/oauth/consent", data=form)
    check_oauth(answer, f"POST /oauth/consent {form!r}", browser=True)
    page = send(
        client,
        "consent",
        "GET",
        "/oauth/consent",
        query_string=present({"txn": data.draw(values(txn))}),
    )
    check_oauth(page, "GET /oauth/consent", browser=True)


@FUZZ
@given(
    query=st.dictionaries(
        st.sampled_from(["code", "state", "error", "error_description", "iss"]),
        form_text,
        max_size=5,
    )
)
def test_upstream_callback_with_any_query(
    proxy_app: Flask, query: dict[str, str]
) -> None:
    attack(
        proxy_app,
        "callback",
        "GET",
        "/oauth/callback",
        browser=True,
        query_string=query,
    )
