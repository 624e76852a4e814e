"""An upstream OpenID Connect provider that fails: every failure ends the
flow with ``temporarily_unavailable`` at the client's (approved) redirect URI,
never a 500, and the log names the upstream call that failed. A userinfo
endpoint that refuses the access token does not stop the login."""

from __future__ import annotations

import json
import logging
import time
import typing as t

import pytest
from providers.upstream import Keys
from providers.upstream import Upstream
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask_mcp.auth.providers import OIDCProvider
from support import free_port

from .conftest import BASE_URL
from .flow import pkce
from .test_proxy_authorize import STATE
from .test_proxy_authorize import assert_redirected_error

CLIENT_ID = "proxy-at-fake-issuer"
USER = {"sub": "user-1", "email": "ada@example.com", "email_verified": True}


class FakeIssuer:
    """An OpenID Connect issuer on loopback whose endpoints a test can break.

    ``/authorize`` redirects straight back with a code; ``/token`` answers an
    ID token for :data:`USER` with the nonce of the request's verifier.
    """

    def __init__(self, server: Upstream, keys: Keys) -> None:
        self.server = server
        self.keys = keys
        self.issuer = server.url
        self.nonce: t.Callable[[str], str] = lambda verifier: ""
        self.url = {
            name: f"{server.url}/{name}"
            for name in ("authorize", "token", "jwks", "userinfo")
        }
        document = {
            "issuer": self.issuer,
            "authorization_endpoint": self.url["authorize"],
            "token_endpoint": self.url["token"],
            "jwks_uri": self.url["jwks"],
            "userinfo_endpoint": self.url["userinfo"],
            "response_types_supported": ["code"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }
        server.reply(
            "GET",
            f"{server.url}/.well-known/openid-configuration",
            json.dumps(document),
        )
        server.route("GET", self.url["authorize"], self.authorize)
        server.route("POST", self.url["token"], self.token)
        key = keys.key("fake").as_dict(private=False)
        server.reply("GET", self.url["jwks"], json.dumps({"keys": [key]}))
        userinfo = {**USER, "name": "From userinfo"}
        server.reply("GET", self.url["userinfo"], json.dumps(userinfo))

    def authorize(self, request: Request) -> Response:
        target = (
            f"{request.args['redirect_uri']}?code=c0de&state={request.args['state']}"
        )
        return Response(status=302, headers={"Location": target})

    def token(self, request: Request) -> Response:
        now = int(time.time())
        claims = {
            **USER,
            "name": "From the ID token",
            "iss": self.issuer,
            "aud": CLIENT_ID,
            "iat": now,
            "exp": now + 300,
            "nonce": self.nonce(request.form["code_verifier"]),
        }
        body = {
            "access_token": "upstream-at",
            "token_type": "Bearer",
            "expires_in": 3600,
            "id_token": self.keys.sign(claims, "fake"),
        }
        return Response(json.dumps(body), content_type="application/json")

    def provider(self, issuer: str | None = None, **options: t.Any) -> OIDCProvider:
        provider = OIDCProvider(
            issuer=issuer or self.issuer,
            base_url=BASE_URL,
            client_id=CLIENT_ID,
            client_secret="fake-secret",
            timeout=1.0,
            **options,
        )
        self.nonce = provider.nonce
        return provider


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys()


@pytest.fixture
def fake(keys: Keys) -> t.Iterator[FakeIssuer]:
    server = Upstream()
    yield FakeIssuer(server, keys)
    server.close()


def start(flow, **params):
    """Authorize and approve; the reply after the consent page."""
    client = flow.register()
    reply = flow.authorize(client, challenge=pkce()[1], state=STATE, **params)
    return client, flow.consent(reply)


def logged(caplog, text: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= logging.WARNING and text in r.getMessage()
    ]


def test_an_unreachable_provider_before_the_login(make_app, make_flow, fake, caplog):
    """Its discovery document cannot be read: no 500 after the consent page."""
    provider = fake.provider(issuer=f"http://127.0.0.1:{free_port()}")
    flow = make_flow(make_app(provider=provider))
    client, reply = start(flow)
    params = assert_redirected_error(reply, client, "temporarily_unavailable")
    assert "unavailable" in params["error_description"]
    assert logged(caplog, "discovery document")


@pytest.mark.parametrize(
    ("endpoint", "status", "call"),
    [
        ("token", 502, "token endpoint"),
        ("token", "hang", "token endpoint"),
        ("jwks", 500, "JWKS"),
        ("userinfo", 500, "userinfo endpoint"),
        ("userinfo", "hang", "userinfo endpoint"),
    ],
)
def test_a_failing_call_at_the_callback(
    make_app, make_flow, fake, caplog, endpoint, status, call
):
    method = "POST" if endpoint == "token" else "GET"
    if status == "hang":
        fake.server.hang(method, fake.url[endpoint])
    else:
        fake.server.recorded(method, fake.url[endpoint], "gateway/502.html", status)
    flow = make_flow(make_app(provider=fake.provider(fetch_userinfo=True)))
    client, reply = start(flow)
    done = flow.through_upstream(reply)
    params = assert_redirected_error(done, client, "temporarily_unavailable")
    assert call in params["error_description"]
    assert logged(caplog, f"the login failed at the {call}")


def test_userinfo_refusing_the_upstream_token(make_app, make_flow, fake, caplog):
    """Access tokens for another resource: the ID token signs the user in."""
    fake.server.reply(
        "GET", fake.url["userinfo"], '{"error": "invalid_token"}', status=401
    )
    flow = make_flow(make_app(provider=fake.provider(fetch_userinfo=True)))
    login = flow.login()
    assert set(login.params) == {"code", "state", "iss"}, login.reply.location
    warnings = logged(caplog, "refused the access token")
    assert len(warnings) == 1, warnings
    tokens = flow.token(login).json()
    me = flow.whoami(tokens["access_token"]).json()
    assert me["subject"] == "user-1" and me["email"] == "ada@example.com"
    assert me["name"] == "From the ID token"
