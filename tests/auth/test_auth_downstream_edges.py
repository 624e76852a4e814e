"""Downstream tokens at their edges: a token endpoint that answers odd JSON
(an expiry no store holds, nesting deeper than the parser goes), and one
subject signed in two ways, whose downstream tokens must stay apart as its
MCP sessions do. Each test also reads the log for the tokens it handled."""

from __future__ import annotations

import json
import logging
import typing as t
import uuid
from urllib.parse import parse_qs

import pytest
import redis
from flask import Flask
from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import DownstreamError
from flask_mcp.auth import DownstreamTokens
from flask_mcp.auth import TokenExchange
from flask_mcp.auth import TokenSession
from flask_mcp.auth import Unauthorized
from flask_mcp.auth import require_auth
from flask_mcp.store import Store
from flask_mcp.store.backends import MemoryStoreBackend
from flask_mcp.store.backends import RedisStoreBackend
from support.loopback import LoopbackServer

SECRET = "exchange-client-secret"


class TokenEndpoint:
    """A token endpoint that trades ``subject_token`` for ``for:<it>``, or
    answers ``body`` verbatim when one is set; it counts the trades."""

    def __init__(self) -> None:
        self.body: str | None = None
        self.trades: list[str] = []

    def __call__(self, environ: t.Any, start_response: t.Any) -> t.Any:
        request = Request(environ)
        form = parse_qs(request.get_data(as_text=True))
        subject = form["subject_token"][0]
        self.trades.append(subject)
        body = self.body or json.dumps(
            {"access_token": f"for:{subject}", "expires_in": 300}
        )
        response = Response(body, content_type="application/json")
        return response(environ, start_response)


@pytest.fixture(scope="module")
def endpoint() -> t.Iterator[tuple[TokenEndpoint, str]]:
    answer = TokenEndpoint()
    with LoopbackServer(answer) as server:
        yield answer, server.url + "/token"


@pytest.fixture
def token_endpoint(endpoint) -> TokenEndpoint:
    answer, _ = endpoint
    answer.body, answer.trades = None, []
    return answer


@pytest.fixture
def app(tmp_path) -> Flask:
    app = Flask("downstream-edges", instance_path=str(tmp_path / "instance"))
    app.config.update(TESTING=True, MCP_OAUTH_ENCRYPTION_KEY=b"k" * 32)
    return app


def no_secret_in(caplog: pytest.LogCaptureFixture, *secrets: str) -> None:
    for secret in (SECRET, *secrets):
        assert secret not in caplog.text


@pytest.mark.parametrize("expires_in", ["1e300", "3e10"])
def test_a_far_expiry_is_cached_a_day_at_most(
    endpoint, token_endpoint, app, redis_server, caplog, expires_in
):
    caplog.set_level(logging.DEBUG)
    client, namespace, downstream = on_redis(endpoint, app, redis_server)
    token_endpoint.body = f'{{"access_token": "far", "expires_in": {expires_in}}}'
    session = TokenSession.from_claims({"sub": "u", "iss": "i"}, token="subject-1")
    assert downstream.token_for(session, "orders-api") == "far"
    assert downstream.token_for(session, "orders-api") == "far"
    assert token_endpoint.trades == ["subject-1"]  # the second from the cache
    (key,) = client.keys(namespace + "downstream:*")
    assert 0 < client.pttl(key) <= 86400 * 1000
    no_secret_in(caplog, "subject-1", "far")


@pytest.mark.parametrize("expires_in", ["Infinity", "1e400", "NaN", "-5", "true"])
def test_an_expiry_that_is_no_number_is_none(
    endpoint, token_endpoint, app, redis_server, caplog, expires_in
):
    caplog.set_level(logging.DEBUG)
    client, namespace, downstream = on_redis(endpoint, app, redis_server)
    token_endpoint.body = f'{{"access_token": "odd", "expires_in": {expires_in}}}'
    session = TokenSession.from_claims({"sub": "u", "iss": "i"}, token="subject-3")
    found = downstream.get(session, "orders-api")
    assert found.access_token == "odd" and found.expires_at is None
    assert client.keys(namespace + "downstream:*") == []  # not cached, as without
    no_secret_in(caplog, "subject-3", "odd")


def on_redis(
    endpoint: tuple[TokenEndpoint, str], app: Flask, redis_server: t.Any
) -> tuple[redis.Redis, str, DownstreamTokens]:
    """A client of the test's Redis, a namespace of its own, and downstream
    tokens kept there."""
    client = redis.Redis.from_url(redis_server.url)
    namespace = f"edges-{uuid.uuid4().hex}:"
    downstream = DownstreamTokens(TokenExchange(endpoint[1], "client", SECRET))
    downstream.init_app(app, Store(RedisStoreBackend(client), namespace), "mcp")
    return client, namespace, downstream


def test_json_deeper_than_the_parser_goes_is_a_server_error(
    endpoint, token_endpoint, app, caplog
):
    caplog.set_level(logging.DEBUG)
    _, url = endpoint
    token_endpoint.body = '{"access_token": "x", "a": ' + "[" * 100_000 + "]" * 100_000
    downstream = DownstreamTokens(TokenExchange(url, "client", SECRET))
    downstream.init_app(app, Store(MemoryStoreBackend(), "t:"), "mcp")
    session = TokenSession.from_claims({"sub": "u", "iss": "i"}, token="subject-2")
    with pytest.raises(DownstreamError) as refused:
        downstream.token_for(session, "orders-api")
    assert refused.value.error == "server_error"
    assert refused.value.call == f"token exchange at {url}"
    no_secret_in(caplog, "subject-2")


# -- one subject, two ways in ----------------------------------------------------

STAFF = {"staff-alice": "alice"}
PARTNERS = {"partner-alice": "alice"}


def reading(header: str, table: dict[str, str]) -> t.Callable[[Request], t.Any]:
    """An ``authenticate`` of one's own: a token of ``table`` in ``header``,
    the session a dict with the user's token to trade."""

    def authenticate(request: Request) -> t.Any:
        token = request.headers.get(header)
        if token is None:
            return None
        if token not in table:
            raise Unauthorized("unknown token", error="invalid_token")
        return {"sub": table[token], "access_token": token}

    return authenticate


def test_one_subject_of_two_ways_in_never_gets_the_others_token(
    endpoint, token_endpoint, app, caplog
):
    caplog.set_level(logging.DEBUG)
    _, url = endpoint
    downstream = DownstreamTokens(TokenExchange(url, "client", SECRET))
    mcp = FlaskMCP(
        app,
        authenticate=[
            ("staff", reading("X-Staff-Token", STAFF)),
            ("partners", reading("X-Partner-Token", PARTNERS)),
        ],
        downstream=downstream,
    )

    @mcp.tool(can_access=require_auth)
    def orders(ctx: Context) -> str:
        """The downstream token the caller gets."""
        return downstream.token_for(ctx.session, "orders-api")

    seen = []
    for header, token in (
        ("X-Staff-Token", "staff-alice"),
        ("X-Partner-Token", "partner-alice"),
        ("X-Staff-Token", "staff-alice"),
    ):
        with mcp.test_client(app, headers={header: token}) as client:
            seen.append(client.call_tool("orders")["content"][0]["text"])
    # alice of the partners is another principal: her own token, not staff's.
    assert seen == ["for:staff-alice", "for:partner-alice", "for:staff-alice"]
    assert token_endpoint.trades == ["staff-alice", "partner-alice"]
    no_secret_in(caplog)
