"""Several ways in on one endpoint: ``any_of`` and ``authenticate=[...]``.

Which way wins, how refusals of one way meet the others, the challenge that
still invites OAuth clients, and principals that keep two sources apart."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask
from flask import abort
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from flask_mcp import FlaskMCP
from flask_mcp.auth import Forbidden
from flask_mcp.auth import Unauthorized
from flask_mcp.auth import any_of
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import bearer_auth
from flask_mcp.auth import require_role
from flask_mcp.auth.principals import Authenticated
from flask_mcp.auth.principals import principal_of
from flask_mcp.store import Store
from flask_mcp.store.backends import MemoryStoreBackend
from support.mcp_post import ACCEPT
from support.mcp_post import INIT


def request(headers: dict[str, str] | None = None, query: str = "") -> Request:
    return Request(
        EnvironBuilder(headers=headers or {}, query_string=query).get_environ()
    )


def tokens(table: dict[str, t.Any]) -> t.Callable[[str], t.Any]:
    def verify(token: str) -> t.Any:
        if token not in table:
            raise Unauthorized("unknown token", error="invalid_token")
        return table[token]

    return verify


STAFF = bearer_auth(tokens({"staff-token": {"sub": "alice", "roles": ["admin"]}}))
KEYS = api_key_auth({"ci-key": {"sub": "alice", "role": "ci"}})


# -- any_of, as a function ---------------------------------------------------


def test_the_first_way_that_lets_the_request_in_wins():
    both = any_of(STAFF, KEYS)
    found = both.identify(request({"X-API-Key": "ci-key"}))
    assert found == Authenticated({"sub": "alice", "role": "ci"}, "api-key:X-API-Key")
    found = both.identify(request({"Authorization": "Bearer staff-token"}))
    assert found is not None and found.source == "bearer"
    assert both(request({"Authorization": "Bearer staff-token"}))["roles"] == ["admin"]
    assert both.identify(request()) is None  # no credential of any kind


def test_a_401_of_one_way_lets_the_next_one_try():
    other_issuer = bearer_auth(tokens({"other-token": {"sub": "bob"}}))
    both = any_of(STAFF, ("partners", other_issuer))
    found = both.identify(request({"Authorization": "Bearer other-token"}))
    assert found == Authenticated({"sub": "bob"}, "partners")
    with pytest.raises(Unauthorized) as refused:
        both.identify(request({"Authorization": "Bearer forged"}))
    assert refused.value.description == "unknown token"  # the first refusal


def test_abort_401_of_a_custom_function_lets_the_next_one_try():
    def custom(request: Request) -> t.Any:
        abort(401)

    assert any_of(custom, KEYS)(request({"X-API-Key": "ci-key"}))["role"] == "ci"


def test_a_wrong_key_is_refused_even_next_to_another_way():
    with pytest.raises(Unauthorized) as refused:
        any_of(STAFF, KEYS).identify(request({"X-API-Key": "guess"}))
    assert refused.value.scheme == 'ApiKey header="X-API-Key"'


def test_a_403_or_an_outage_is_the_answer_at_once():
    calls = []

    def forbidden(request: Request) -> t.Any:
        raise Forbidden("suspended")

    def counted(request: Request) -> t.Any:
        calls.append(1)
        return {"sub": "x"}

    with pytest.raises(Forbidden):
        any_of(forbidden, counted)(request())

    def broken(request: Request) -> t.Any:
        raise RuntimeError("the database is down")

    with pytest.raises(RuntimeError):
        any_of(broken, counted)(request())
    assert calls == []


def test_async_members_are_awaited():
    async def late(request: Request) -> t.Any:
        return {"sub": "async"}

    assert any_of(late)(request()) == {"sub": "async"}


def test_sources_are_unique_and_nested_any_of_flattens():
    inner = any_of(STAFF, KEYS)
    outer = any_of(inner, bearer_auth(tokens({})), ("ci", KEYS))
    assert outer.sources == ("bearer", "api-key:X-API-Key", "bearer#2", "ci")
    assert outer.www_authenticate == ("Bearer", 'ApiKey header="X-API-Key"')


@pytest.mark.parametrize(
    "members",
    [(), ("not callable",), (("", KEYS),), ((3, KEYS),)],
)
def test_any_of_refuses_what_cannot_work(members):
    with pytest.raises(ValueError):
        any_of(*members)


def test_bind_store_reaches_every_member():
    bound = []

    class Verifier:
        def verify(self, token: str) -> t.Any:
            return {"sub": token}

        def bind_store(self, store: Store) -> None:
            bound.append(store)

    store = Store(MemoryStoreBackend(), "t:")
    any_of(bearer_auth(Verifier()), KEYS).bind_store(store)
    assert bound == [store]


def test_principals_keep_sources_apart():
    session = {"sub": "alice"}
    assert principal_of(session, "bearer") != principal_of(session, "api-key:X")
    assert principal_of(session, "bearer") == principal_of(dict(session), "bearer")
    assert principal_of(None, "bearer") is None


# -- on a server ---------------------------------------------------------------


def make_app(tmp_path, **options: t.Any) -> tuple[Flask, FlaskMCP]:
    app = Flask("several", instance_path=str(tmp_path / "instance"))
    app.config["TESTING"] = True
    mcp = FlaskMCP(app, **options)

    @mcp.tool(can_access=require_role("admin", "ci"))
    def whoami(ctx: t.Any = None) -> str:
        """Who is calling."""
        return "ok"

    return app, mcp


def post(client: t.Any, body: dict[str, t.Any], **headers: str) -> t.Any:
    return client.post("/mcp", json=body, headers={"Accept": ACCEPT, **headers})


def test_a_list_of_authenticate_functions_serves_both_ways(tmp_path):
    app, mcp = make_app(tmp_path, authenticate=[STAFF, KEYS])
    for headers in ({"Authorization": "Bearer staff-token"}, {"X-API-Key": "ci-key"}):
        with mcp.test_client(app, headers=headers) as client:
            assert client.call_tool("whoami")["content"][0]["text"] == "ok"
    refused = post(app.test_client(), INIT)
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"] == 'Bearer, ApiKey header="X-API-Key"'


def test_the_refusing_way_carries_the_error(tmp_path):
    app, _ = make_app(tmp_path, authenticate=[STAFF, KEYS])
    wrong_key = post(app.test_client(), INIT, **{"X-API-Key": "guess"})
    assert wrong_key.headers["WWW-Authenticate"] == (
        'Bearer, ApiKey header="X-API-Key", error="invalid_token",'
        ' error_description="invalid API key"'
    )
    wrong_token = post(app.test_client(), INIT, Authorization="Bearer forged")
    assert wrong_token.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token", error_description="unknown token",'
        ' ApiKey header="X-API-Key"'
    )


def test_with_oauth_discovery_the_challenge_starts_with_bearer(tmp_path):
    oauth = {
        "enabled": True,
        "protected_resource": {
            "authorization_servers": ["https://idp.example.com"],
            "scopes_supported": ["mcp:tools"],
        },
    }
    app, _ = make_app(tmp_path, authenticate=[STAFF, KEYS], oauth=oauth)
    refused = post(app.test_client(), INIT)
    challenge = refused.headers["WWW-Authenticate"]
    assert challenge.startswith(
        'Bearer resource_metadata="http://localhost/.well-known/oauth-protected-resource/mcp",'
        ' scope="mcp:tools"'
    )
    assert challenge.endswith(', ApiKey header="X-API-Key"')


def test_one_subject_from_two_sources_never_shares_a_session(tmp_path):
    app, _ = make_app(tmp_path, authenticate=[STAFF, KEYS])
    client = app.test_client()
    started = post(client, INIT, Authorization="Bearer staff-token")
    session_id = started.headers["Mcp-Session-Id"]
    ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
    same = post(
        client,
        ping,
        Authorization="Bearer staff-token",
        **{"Mcp-Session-Id": session_id, "MCP-Protocol-Version": "2025-11-25"},
    )
    assert same.status_code == 200
    # alice again, through an API key: another principal, an unknown session.
    other = post(
        client,
        ping,
        **{
            "X-API-Key": "ci-key",
            "Mcp-Session-Id": session_id,
            "MCP-Protocol-Version": "2025-11-25",
        },
    )
    assert other.status_code == 404


def test_protected_routes_see_the_source(tmp_path):
    app, mcp = make_app(tmp_path, authenticate=[STAFF, KEYS])

    @mcp.route("/api/source")
    def source() -> t.Any:
        from flask import g

        return {"source": g.mcp_auth_source, "sub": g.mcp_auth["sub"]}

    reply = app.test_client().get("/api/source", headers={"X-API-Key": "ci-key"})
    assert reply.json == {"source": "api-key:X-API-Key", "sub": "alice"}


@pytest.mark.parametrize("bad", ["not callable", [], ["x"], 42])
def test_authenticate_must_be_functions(bad):
    with pytest.raises(TypeError):
        FlaskMCP(authenticate=bad)


def test_auth_and_oauth_still_exclude_each_other():
    from flask_mcp.auth.providers import OAuthProvider

    provider = OAuthProvider(
        base_url="https://mcp.example.com",
        client_id="c",
        client_secret="s",
        authorize_url="https://idp/authorize",
        token_url="https://idp/token",
    )
    with pytest.raises(TypeError, match="oauth="):
        FlaskMCP(auth=provider, oauth={"enabled": True})
    FlaskMCP(auth=provider, authenticate=KEYS)  # allowed now
