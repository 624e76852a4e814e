"""A token is traded only at the upstream that issued it (red team, finding
10): with a bearer way in for issuer A and downstream tokens exchanged at B,
A's token must never reach B. An exchanger that knows its issuer
(``TokenExchange.for_provider`` does, ``issuer=`` otherwise) refuses such a
session before any call: B sees no request at all, not even discovery."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import DownstreamError
from flask_mcp.auth import DownstreamTokens
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import OnBehalfOf
from flask_mcp.auth import TokenExchange
from flask_mcp.auth import TokenSession
from flask_mcp.auth import bearer_auth
from flask_mcp.auth import require_auth
from flask_mcp.auth.providers import KeycloakProvider
from flask_mcp.store import Store
from flask_mcp.store.backends import MemoryStoreBackend
from support.oidc import Client
from support.oidc import OIDCIssuer
from support.oidc import User
from support.oidc import flavours

MCP = "https://mcp.example.com/mcp"
SERVER = Client("mcp-server", "mcp-server-secret", exchange_audiences=("orders-api",))
ALICE = User("alice", {"email": "alice@example.com"})


def issuer(realm: str) -> OIDCIssuer:
    return OIDCIssuer(flavours.keycloak(realm=realm, users=[ALICE], clients=[SERVER]))


@pytest.fixture(scope="module")
def a() -> t.Iterator[OIDCIssuer]:
    with issuer("a") as found:
        yield found


@pytest.fixture(scope="module")
def b() -> t.Iterator[OIDCIssuer]:
    with issuer("b") as found:
        yield found


@pytest.fixture
def app(tmp_path) -> Flask:
    app = Flask("downstream-issuer", instance_path=str(tmp_path / "instance"))
    app.config.update(TESTING=True, MCP_OAUTH_ENCRYPTION_KEY=b"k" * 32)
    return app


def provider_at(idp: OIDCIssuer, realm: str) -> KeycloakProvider:
    return KeycloakProvider(
        server_url=idp.url,
        realm=realm,
        base_url="https://mcp.example.com",
        client_id=SERVER.client_id,
        client_secret=SERVER.client_secret,
    )


def bound(app: Flask, exchanger: t.Any) -> DownstreamTokens:
    downstream = DownstreamTokens(exchanger)
    downstream.init_app(app, Store(MemoryStoreBackend(), "t:"), "mcp")
    return downstream


def session_of(idp: OIDCIssuer, **claims: t.Any) -> TokenSession:
    token = idp.mint({"sub": "alice", "aud": MCP, "azp": SERVER.client_id})
    return TokenSession.from_claims({"sub": "alice", **claims}, token=token)


def test_for_provider_knows_the_issuer(b):
    exchange = TokenExchange.for_provider(provider_at(b, "b"))
    assert exchange.issuer == b.issuer
    assert TokenExchange.for_provider(provider_at(b, "b"), issuer="x").issuer == "x"


def test_the_finding_a_bearer_token_of_a_is_not_sent_to_b(a, b, app):
    """The red team's set-up, through a tool: A's token is refused at once."""
    exchange = TokenExchange.for_provider(provider_at(b, "b"))
    downstream = DownstreamTokens(exchange)
    mcp = FlaskMCP(
        app,
        authenticate=[bearer_auth(JWTVerifier(issuer=a.issuer, audience=MCP))],
        downstream=downstream,
    )

    @mcp.tool(can_access=require_auth)
    def orders(ctx: Context) -> str:
        """Call the orders API as the user."""
        try:
            return downstream.token_for(ctx.session, "orders-api")
        except DownstreamError as error:
            return f"no token: {error}"

    seen_before = len(b.seen)
    token = a.mint({"sub": "alice", "aud": MCP, "azp": SERVER.client_id})
    with mcp.test_client(app, headers={"Authorization": f"Bearer {token}"}) as client:
        text = client.call_tool("orders")["content"][0]["text"]
    assert text == (
        f"no token: session: invalid_request (this session's token was issued"
        f" by {a.issuer!r}, not by {b.issuer!r})"
    )
    assert b.seen[seen_before:] == []  # no POST, not even discovery
    assert token not in text


def test_a_session_of_the_exchangers_issuer_is_traded(b, app):
    downstream = bound(app, TokenExchange.for_provider(provider_at(b, "b")))
    before = b.stats()["token"].get("urn:ietf:params:oauth:grant-type:token-exchange")
    assert downstream.token_for(session_of(b, iss=b.issuer), "orders-api")
    after = b.stats()["token"]["urn:ietf:params:oauth:grant-type:token-exchange"]
    assert after == (before or 0) + 1


@pytest.mark.parametrize(
    "session",
    [
        pytest.param(lambda a, b: session_of(a, iss=a.issuer), id="bearer-of-a"),
        pytest.param(lambda a, b: session_of(a), id="bearer-without-iss"),
        pytest.param(lambda a, b: session_of(b, iss=b.issuer + "/"), id="near-iss"),
        pytest.param(
            lambda a, b: {"sub": "alice", "iss": a.issuer, "access_token": "tok"},
            id="dict-of-a",
        ),
    ],
)
def test_other_sessions_are_refused_before_any_call(a, b, app, session):
    exchange = TokenExchange(
        b.url + b.settings.endpoint_paths()["token_endpoint"],
        SERVER.client_id,
        SERVER.client_secret,
        issuer=b.issuer,
    )
    downstream = bound(app, exchange)
    seen_before = len(b.seen)
    with pytest.raises(DownstreamError) as refused:
        downstream.token_for(session(a, b), "orders-api")
    assert refused.value.error == "invalid_request"
    assert refused.value.call == "session"
    assert "not by" in str(refused.value)
    assert b.seen[seen_before:] == []


def test_a_session_naming_no_issuer_that_is_no_bearer_session_is_traded(b, app):
    """The OAuth proxy's sessions and custom ones say nothing of their
    issuer unless their claims do: the exchanger trusts its configuration."""
    exchange = TokenExchange.for_provider(provider_at(b, "b"))
    downstream = bound(app, exchange)
    token = session_of(b).token
    assert downstream.token_for({"sub": "alice", "access_token": token}, "orders-api")


def test_without_issuer_nothing_changes(a, b, app):
    endpoint = b.url + b.settings.endpoint_paths()["token_endpoint"]
    exchange = TokenExchange(endpoint, SERVER.client_id, SERVER.client_secret)
    assert exchange.issuer is None
    with pytest.raises(DownstreamError) as refused:  # B refuses A's token itself
        bound(app, exchange).token_for(session_of(a, iss=a.issuer), "orders-api")
    assert refused.value.error == "invalid_grant"


def test_on_behalf_of_refuses_a_session_of_another_issuer(a, app):
    entra = "https://login.microsoftonline.com/tenant/v2.0"
    exchange = OnBehalfOf("tenant", "api", "secret", authority=a.url, issuer=entra)
    seen_before = len(a.seen)
    with pytest.raises(DownstreamError, match="not by 'https://login.microsoft"):
        bound(app, exchange).token_for(session_of(a, iss=a.issuer), "api://orders")
    assert a.seen[seen_before:] == []
