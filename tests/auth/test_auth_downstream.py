"""Downstream tokens: RFC 8693 token exchange and Entra on-behalf-of against
the test issuer, the cache in the store (per principal, audience and scopes,
sealed at rest, until shortly before expiry), and every refusal, which names
the upstream call and caches nothing."""

from __future__ import annotations

import typing as t

import pytest
import requests
from flask import Flask
from joserfc import jwt
from joserfc.jwk import KeySet

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import DownstreamError
from flask_mcp.auth import DownstreamTokens
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import OnBehalfOf
from flask_mcp.auth import TokenExchange
from flask_mcp.auth import TokenSession
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import bearer_auth
from flask_mcp.auth import require_auth
from flask_mcp.auth.providers import KeycloakProvider
from flask_mcp.store import Store
from flask_mcp.store.backends import MemoryStoreBackend
from support.oidc import TOKEN_EXCHANGE
from support.oidc import Client
from support.oidc import IssuerSettings
from support.oidc import OIDCIssuer
from support.oidc import User
from support.oidc import flavours

MCP = "https://mcp.example.com/mcp"
PROXY = Client("mcp-server", "mcp-server-secret", exchange_audiences=("orders-api",))
ALICE = User("alice", {"email": "alice@example.com", "realm_access": {"roles": ["x"]}})
BOB = User("bob", {"email": "bob@example.com"})
KEY = b"k" * 32


@pytest.fixture(scope="module")
def idp() -> t.Iterator[OIDCIssuer]:
    with OIDCIssuer(flavours.keycloak(users=[ALICE, BOB], clients=[PROXY])) as issuer:
        yield issuer


@pytest.fixture
def app(tmp_path) -> Flask:
    app = Flask("downstream", instance_path=str(tmp_path / "instance"))
    app.config.update(TESTING=True, MCP_OAUTH_ENCRYPTION_KEY=KEY)
    return app


def exchange_for(idp: OIDCIssuer) -> TokenExchange:
    endpoint = idp.url + idp.settings.endpoint_paths()["token_endpoint"]
    return TokenExchange(endpoint, PROXY.client_id, PROXY.client_secret)


def bound(
    idp: OIDCIssuer, app: Flask, **options: t.Any
) -> tuple[DownstreamTokens, MemoryStoreBackend]:
    backend = MemoryStoreBackend()
    downstream = DownstreamTokens(exchange_for(idp), **options)
    downstream.init_app(app, Store(backend, "mcp:mcp:"), "mcp")
    return downstream, backend


def user_session(idp: OIDCIssuer, sub: str = "alice") -> TokenSession:
    """What bearer_auth(JWTVerifier) makes of a token the IdP issued to us."""
    token = idp.mint({"sub": sub, "aud": MCP, "azp": PROXY.client_id, "scope": "mcp"})
    return TokenSession.from_claims({"sub": sub, "iss": idp.issuer}, token=token)


def claims(idp: OIDCIssuer, token: str) -> dict[str, t.Any]:
    return dict(jwt.decode(token, KeySet.import_key_set(idp.keys.jwks())).claims)


def exchanges(idp: OIDCIssuer) -> int:
    return int(idp.stats()["token"].get(TOKEN_EXCHANGE, 0))


def test_a_token_for_the_audience_cached_until_expiry(idp, app):
    downstream, backend = bound(idp, app)
    session = user_session(idp)
    before = exchanges(idp)
    token = downstream.token_for(session, "orders-api", ["orders:read"])
    found = claims(idp, token)
    assert found["aud"] == "orders-api" and found["sub"] == "alice"
    assert found["azp"] == PROXY.client_id  # issued to us, for the API
    assert token != session.token  # never the user's token itself
    again = downstream.get(session, "orders-api", ["orders:read"])
    assert again.access_token == token and again.expires_at
    assert exchanges(idp) == before + 1  # the second came from the store
    # Sealed at rest: neither the token nor a piece of it is in the store.
    stored = repr(backend.__dict__)
    assert token not in stored and token.split(".")[1] not in stored


def test_the_cache_is_per_principal_audience_and_scopes(idp, app):
    downstream, _ = bound(idp, app)
    alice, bob = user_session(idp, "alice"), user_session(idp, "bob")
    before = exchanges(idp)
    first = downstream.token_for(alice, "orders-api", ["orders:read"])
    assert (
        claims(idp, downstream.token_for(bob, "orders-api", ["orders:read"]))["sub"]
        == "bob"
    )
    assert downstream.token_for(alice, "orders-api", ["orders:write"]) != first
    assert downstream.token_for(alice, "orders-api", []) != first
    assert exchanges(idp) == before + 4
    # The same principal with a fresh token of the IdP: still the cached one.
    assert (
        downstream.token_for(user_session(idp, "alice"), "orders-api", ["orders:read"])
        == first
    )


def test_a_token_about_to_expire_is_not_cached(idp, app):
    downstream, _ = bound(idp, app, skew=30)
    idp.config(expires_in=20)
    try:
        before = exchanges(idp)
        downstream.token_for(user_session(idp), "orders-api")
        downstream.token_for(user_session(idp), "orders-api")
        assert exchanges(idp) == before + 2
    finally:
        idp.config(expires_in=None)


def test_a_tampered_or_foreign_cache_entry_is_refetched(idp, app):
    downstream, backend = bound(idp, app)
    session = user_session(idp)
    downstream.token_for(session, "orders-api")
    (key,) = [k for k in backend._data if ":downstream:" in k]
    backend.set(key, "v1.AAAA" + "B" * 40, 60)  # planted by someone without the key
    before = exchanges(idp)
    assert (
        claims(idp, downstream.token_for(session, "orders-api"))["aud"] == "orders-api"
    )
    assert exchanges(idp) == before + 1


@pytest.mark.parametrize(
    ("audience", "error"),
    [("payroll-api", "invalid_target")],
)
def test_a_refused_exchange_names_the_call_and_caches_nothing(
    idp, app, audience, error
):
    downstream, backend = bound(idp, app)
    with pytest.raises(DownstreamError) as refused:
        downstream.token_for(user_session(idp), audience)
    assert refused.value.error == error
    assert refused.value.call.startswith("token exchange at " + idp.url)
    assert str(refused.value).startswith("token exchange at ")
    assert "downstream" not in repr(backend.__dict__)


def test_a_forged_or_foreign_subject_token_is_refused(idp, app):
    downstream, _ = bound(idp, app)
    forged = TokenSession.from_claims(
        {"sub": "alice", "iss": idp.issuer}, token="a.b.c"
    )
    with pytest.raises(DownstreamError) as refused:
        downstream.token_for(forged, "orders-api")
    assert refused.value.error == "invalid_grant"
    # Keycloak: a token issued to another client is not ours to exchange.
    foreign = idp.mint({"sub": "alice", "aud": "someone-else", "azp": "someone-else"})
    session = TokenSession.from_claims({"sub": "alice"}, token=foreign)
    with pytest.raises(DownstreamError, match="invalid_grant"):
        downstream.token_for(session, "orders-api")


def test_wrong_client_credentials(idp, app):
    endpoint = idp.url + idp.settings.endpoint_paths()["token_endpoint"]
    downstream = DownstreamTokens(TokenExchange(endpoint, "mcp-server", "wrong-secret"))
    downstream.init_app(app, Store(MemoryStoreBackend(), "t:"), "mcp")
    with pytest.raises(DownstreamError) as refused:
        downstream.token_for(user_session(idp), "orders-api")
    assert refused.value.error == "invalid_client"
    assert "wrong-secret" not in str(refused.value)


def test_an_unreachable_upstream(app):
    from support import free_port

    endpoint = f"http://127.0.0.1:{free_port()}/token"
    downstream = DownstreamTokens(TokenExchange(endpoint, "c", "s", timeout=2))
    downstream.init_app(app, Store(MemoryStoreBackend(), "t:"), "mcp")
    session = TokenSession.from_claims({"sub": "u"}, token="t")
    with pytest.raises(DownstreamError) as refused:
        downstream.token_for(session, "orders-api")
    assert refused.value.error == "temporarily_unavailable"
    assert refused.value.call == f"token exchange at {endpoint}"


@pytest.mark.parametrize(
    "session",
    [None, {"sub": "ci", "role": "bot"}, TokenSession.from_claims({"sub": "x"})],
    ids=["anonymous", "api-key", "no-token"],
)
def test_sessions_without_a_token_to_trade(idp, app, session):
    downstream, _ = bound(idp, app)
    before = exchanges(idp)
    with pytest.raises(DownstreamError) as refused:
        downstream.token_for(session, "orders-api")
    assert refused.value.call == "session"
    assert exchanges(idp) == before


@pytest.mark.parametrize(
    ("audience", "scopes", "error"),
    [
        ("has space", (), ValueError),
        ("", (), ValueError),
        ("x" * 600, (), ValueError),
        ("orders-api", "orders:read", TypeError),
        ("orders-api", ["a b"], ValueError),
        ("orders-api", [f"s{i}" for i in range(60)], ValueError),
    ],
)
def test_bad_arguments(idp, app, audience, scopes, error):
    downstream, _ = bound(idp, app)
    with pytest.raises(error):
        downstream.token_for(user_session(idp), audience, scopes)


def test_it_must_be_registered_with_a_server(idp):
    with pytest.raises(RuntimeError, match="downstream="):
        DownstreamTokens(exchange_for(idp)).token_for(user_session(idp), "orders-api")


def test_for_provider_discovers_the_endpoint_on_first_use(idp, app):
    provider = KeycloakProvider(
        server_url=idp.url,
        realm="acme",
        base_url="https://mcp.example.com",
        client_id=PROXY.client_id,
        client_secret=PROXY.client_secret,
    )
    exchange = TokenExchange.for_provider(provider)
    assert exchange.name == idp.issuer
    downstream = DownstreamTokens(exchange)
    downstream.init_app(app, Store(MemoryStoreBackend(), "t:"), "mcp")
    token = downstream.token_for(user_session(idp), "orders-api")
    assert claims(idp, token)["aud"] == "orders-api"


# -- from a tool ---------------------------------------------------------------


def test_a_tool_gets_a_downstream_token_and_api_keys_get_a_clear_error(idp, app):
    verifier = JWTVerifier(issuer=idp.issuer, audience=MCP)
    downstream = DownstreamTokens(exchange_for(idp))
    mcp = FlaskMCP(
        app,
        authenticate=[bearer_auth(verifier), api_key_auth({"ci-key": {"sub": "ci"}})],
        downstream=downstream,
    )

    @mcp.tool(can_access=require_auth)
    def orders(ctx: Context) -> str:
        """Call the orders API as the user."""
        try:
            token = downstream.token_for(ctx.session, "orders-api", ["orders:read"])
        except DownstreamError as error:
            return f"no token: {error}"
        return claims(idp, token)["aud"]

    token = idp.mint({"sub": "alice", "aud": MCP, "azp": PROXY.client_id})
    with mcp.test_client(app, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.call_tool("orders")["content"][0]["text"] == "orders-api"
    with mcp.test_client(app, headers={"X-API-Key": "ci-key"}) as client:
        text = client.call_tool("orders")["content"][0]["text"]
    assert text.startswith("no token: session: invalid_request")


# -- Entra on-behalf-of ----------------------------------------------------------

TENANT = "9188040d-6c67-4c5b-b112-36a304b66dad"
API = Client("mcp-api", "mcp-api-secret", exchange_audiences=("api://orders",))


def test_entra_on_behalf_of(app):
    with OIDCIssuer(flavours.entra(TENANT, users=[ALICE], clients=[API])) as idp:
        downstream = DownstreamTokens(
            OnBehalfOf(TENANT, API.client_id, API.client_secret, authority=idp.url)
        )
        downstream.init_app(app, Store(MemoryStoreBackend(), "t:"), "mcp")
        incoming = idp.mint({"sub": "alice", "aud": "api://mcp-api", "scp": "access"})
        session = TokenSession.from_claims(
            {"sub": "alice", "iss": idp.issuer}, token=incoming
        )
        token = downstream.token_for(session, "api://orders", ["orders.read"])
        found = claims(idp, token)
        assert found["aud"] == "api://orders" and found["scp"] == "orders.read"
        form = idp.requests_to("token_endpoint")[-1].form
        assert form["scope"] == "api://orders/orders.read"
        assert form["requested_token_use"] == "on_behalf_of"
        # A token issued for another API is no assertion of ours.
        foreign = TokenSession.from_claims(
            {"sub": "alice"}, token=idp.mint({"sub": "alice", "aud": "api://other"})
        )
        with pytest.raises(DownstreamError) as refused:
            downstream.token_for(foreign, "api://orders")
        assert refused.value.error == "invalid_grant"
        assert refused.value.call.startswith("on-behalf-of at ")
        with pytest.raises(DownstreamError, match="invalid_target"):
            downstream.token_for(session, "api://payroll")


def test_the_upstream_is_asked_by_post_never_with_the_token_in_a_url(idp, app):
    downstream, _ = bound(idp, app)
    session = user_session(idp)
    downstream.token_for(session, "orders-api", ["fresh:scope"])
    seen = idp.requests_to("token_endpoint")[-1]
    assert seen.method == "POST" and seen.query == {}
    assert seen.form["subject_token"] == session.token
    assert requests.utils.quote(session.token) not in seen.path


@pytest.mark.parametrize(
    ("flavour", "parameter"),
    [
        (flavours.okta, "audience"),
        (flavours.auth0, "audience"),
        (IssuerSettings, "resource"),
    ],
    ids=["okta", "auth0", "rfc8707-resource"],
)
def test_token_exchange_at_other_idps(app, flavour, parameter):
    target = "https://orders.example.com/api"
    client = Client("mcp-server", "secret-0123456789", exchange_audiences=(target,))
    with OIDCIssuer(flavour(users=[ALICE], clients=[client])) as idp:
        endpoint = idp.url + idp.settings.endpoint_paths()["token_endpoint"]
        exchange = TokenExchange(
            endpoint,
            client.client_id,
            "secret-0123456789",
            audience_parameter=parameter,
        )
        downstream = DownstreamTokens(exchange)
        downstream.init_app(app, Store(MemoryStoreBackend(), "t:"), "mcp")
        session = TokenSession.from_claims(
            {"sub": "alice"}, token=idp.mint({"sub": "alice", "aud": MCP})
        )
        found = claims(idp, downstream.token_for(session, target, ["orders:read"]))
        assert found["aud"] == target
        assert idp.requests_to("token_endpoint")[-1].form[parameter] == target
