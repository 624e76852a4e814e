"""``authenticate`` on the MCP endpoint, through gunicorn (2 sync workers).

It runs once per HTTP request (counted in a file by the app), so a revoked
key stops working on the very next request; each way of refusing maps to its
status; every 401 carries a Bearer challenge and a JSON-RPC error with the
request's id; an MCP session belongs to the principal that opened it.
"""

from __future__ import annotations

import json
import typing as t
import uuid

import pytest

from . import apps
from .conftest import Served
from .conftest import serve_app
from .helpers import ACCEPT
from .helpers import AUTH_ERROR
from .helpers import SESSION_NOT_FOUND
from .helpers import Http
from .helpers import McpClient
from .helpers import Reply


@pytest.fixture(scope="module")
def plain_server(tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[Served]:
    """The same app without any oauth setting: no discovery, bare challenges."""
    with serve_app(tmp_path_factory.mktemp("plain-server"), "off") as served:
        yield served


def tag() -> str:
    return uuid.uuid4().hex


def client(served: Served, key: str | None, **extra: str) -> McpClient:
    headers = {"X-API-Key": key} if key else {}
    return McpClient(served.http, {**headers, **extra})


# ---------------------------------------------------------------------------
# once per HTTP request


def test_authenticate_runs_once_per_http_request(auth_server: Served) -> None:
    mark = tag()
    bob = client(auth_server, "key-bob", **{"X-Test-Tag": mark})
    expected: list[str] = []

    assert bob.initialize().status == 200
    expected += ["POST /mcp", "POST /mcp"]  # initialize, notifications/initialized
    assert "tool_read" in bob.names("tools")
    expected.append("POST /mcp")
    assert bob.result("tools/call", {"name": "ctxtool_read", "arguments": {}})[
        "content"
    ] == [{"type": "text", "text": "ctx tool read for bob"}]  # handler in a thread
    expected.append("POST /mcp")
    assert bob.result("resources/read", {"uri": "tmpl://read/1"})["contents"]
    expected.append("POST /mcp")
    assert bob.result("prompts/get", {"name": "ctxprompt_read"})["messages"]
    expected.append("POST /mcp")
    denied = bob.rpc("tools/call", {"name": "write_x", "arguments": {}})
    assert denied.status == 403  # the step-up check reuses the same auth session
    expected.append("POST /mcp")
    unknown = bob.rpc("tools/call", {"name": "tool_admin", "arguments": {}})
    assert unknown.status == 200 and "error" in unknown.json()
    expected.append("POST /mcp")

    stream = auth_server.http.request(
        "GET",
        "/mcp",
        headers={
            **bob.headers,
            "Accept": "text/event-stream",
            "Mcp-Session-Id": str(bob.session_id),
            "MCP-Protocol-Version": bob.version,
        },
    )
    assert stream.status == 200 and stream.content_type == "text/event-stream"
    expected.append("GET /mcp")

    for path in ("/api/me", "/plain/me"):
        assert auth_server.http.get(path, headers=bob.headers).status == 200
        expected.append(f"GET {path}")
    for path in (
        "/api/public",
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-authorization-server/tenant-1",
    ):
        assert auth_server.http.get(path, headers=bob.headers).status == 200
        # public: authenticate is not called at all

    wrong = client(auth_server, "not-a-key", **{"X-Test-Tag": mark})
    assert wrong.rpc("tools/list", session=False).status == 401
    expected.append("POST /mcp")

    ended = auth_server.http.request(
        "DELETE",
        "/mcp",
        headers={**bob.headers, "Mcp-Session-Id": str(bob.session_id)},
    )
    assert ended.status == 204
    expected.append("DELETE /mcp")

    assert auth_server.calls(mark) == expected


def test_a_batch_is_authenticated_once(auth_server: Served) -> None:
    mark = tag()
    bob = client(auth_server, "key-bob", **{"X-Test-Tag": mark})
    bob.version = "2025-03-26"  # the last version with JSON-RPC batches
    assert bob.initialize().status == 200
    before = len(auth_server.calls(mark))
    batch = [
        {"jsonrpc": "2.0", "id": n, "method": "tools/call", "params": {"name": name}}
        for n, name in enumerate(["tool_read", "ctxtool_auth", "tool_admin"], 1)
    ]
    reply = bob.post(batch)
    assert reply.status == 200
    answers = {answer["id"]: answer for answer in reply.json()}
    assert answers[1]["result"]["content"][0]["text"] == "tool read"
    assert answers[2]["result"]["content"][0]["text"] == "ctx tool auth for bob"
    assert answers[3]["error"]["message"] == "Unknown tool: tool_admin"
    assert auth_server.calls(mark)[before:] == ["POST /mcp"]


def test_a_revoked_key_stops_working_on_the_next_request(auth_server: Served) -> None:
    bob = client(auth_server, "key-bob-2")
    assert bob.initialize().status == 200
    assert bob.names("tools")
    try:
        auth_server.revoked.write_text("key-bob-2\n")
        for _ in range(4):  # whichever worker answers
            refused = bob.rpc("tools/list", request_id="after-revocation")
            assert refused.status == 401
            assert refused.challenge()["error"] == "invalid_token"
            assert refused.json() == {
                "jsonrpc": "2.0",
                "id": "after-revocation",
                "error": {"code": AUTH_ERROR, "message": "the API key was revoked"},
            }
    finally:
        auth_server.revoked.write_text("")
    assert bob.names("tools")  # the same session works again: nothing was cached


# ---------------------------------------------------------------------------
# refusals: status, challenge, JSON-RPC body


class Refusal(t.NamedTuple):
    headers: dict[str, str]
    status: int
    #: ``error`` of the challenge (401 only), ``None`` for no error parameter.
    error: str | None
    message: str


REFUSALS: dict[str, Refusal] = {
    "no credentials": Refusal({}, 401, None, "Unauthorized"),
    "unknown key": Refusal(
        {"X-API-Key": "nope"}, 401, "invalid_token", "invalid API key"
    ),
    "returns None": Refusal({"X-Test-Auth": "none"}, 401, None, "Unauthorized"),
    "raises Unauthorized(error=)": Refusal(
        {"X-Test-Auth": "unauthorized"}, 401, "invalid_token", "custom refusal"
    ),
    "raises Unauthorized()": Refusal(
        {"X-Test-Auth": "unauthorized-bare"}, 401, None, "Unauthorized"
    ),
    "abort(401)": Refusal({"X-Test-Auth": "abort-401"}, 401, None, "Unauthorized"),
    "raises Forbidden": Refusal(
        {"X-Test-Auth": "forbidden"}, 403, None, "custom forbidden"
    ),
    "abort(403)": Refusal({"X-Test-Auth": "abort-403"}, 403, None, "access denied"),
    "abort(429)": Refusal({"X-Test-Auth": "abort-429"}, 429, None, ""),
}


def check_challenge(
    reply: Reply, served: Served, oauth: bool, error: str | None
) -> None:
    challenge = reply.challenge()
    expected: dict[str, str] = {}
    if oauth:
        expected["resource_metadata"] = (
            served.url + "/.well-known/oauth-protected-resource/mcp"
        )
        expected["scope"] = "x:read x:write"
    if error is not None:
        expected["error"] = error
    description = challenge.pop("error_description", None)
    assert challenge == expected, reply.header("WWW-Authenticate")
    assert (description is not None) == (error is not None)


@pytest.mark.parametrize("request_id", [7, "req-7"])
@pytest.mark.parametrize("case", sorted(REFUSALS))
@pytest.mark.parametrize("oauth", [True, False], ids=["oauth", "no-oauth"])
def test_refusals_of_authenticate(
    request: pytest.FixtureRequest, oauth: bool, case: str, request_id: t.Any
) -> None:
    served: Served = request.getfixturevalue("auth_server" if oauth else "plain_server")
    refusal = REFUSALS[case]
    reply = client(served, None, **refusal.headers).rpc(
        "tools/list", request_id=request_id, session=False
    )
    assert reply.status == refusal.status, reply.body
    assert reply.content_type == "application/json"
    body = reply.json()
    assert body["jsonrpc"] == "2.0" and body["id"] == request_id
    assert body["error"]["code"] == AUTH_ERROR
    if refusal.message:
        assert body["error"]["message"] == refusal.message
    if refusal.status == 401:
        check_challenge(reply, served, oauth, refusal.error)
    elif refusal.status == 403:
        assert reply.header("WWW-Authenticate") is None  # no scopes to ask for


@pytest.mark.parametrize("oauth", [True, False], ids=["oauth", "no-oauth"])
def test_abort_with_a_response_is_answered_as_the_user_built_it(
    request: pytest.FixtureRequest, oauth: bool
) -> None:
    """``abort(Response(...))`` keeps its status, body and headers; only a
    401 without a challenge gets one added."""
    served: Served = request.getfixturevalue("auth_server" if oauth else "plain_server")
    reply = client(served, None, **{"X-Test-Auth": "abort-response-401"}).rpc(
        "tools/list", session=False
    )
    assert reply.status == 401
    assert reply.json() == {"detail": "sign in"}
    assert reply.header("X-Why") == "user-401"
    check_challenge(reply, served, oauth, None)

    reply = client(served, None, **{"X-Test-Auth": "abort-response-403"}).rpc(
        "tools/list", session=False
    )
    assert reply.status == 403
    assert reply.content_type == "text/html" and reply.body == b"<p>no</p>"
    assert reply.header("X-Why") == "user-403"
    assert reply.header("WWW-Authenticate") is None


def test_every_kind_of_mcp_request_gets_the_challenge(auth_server: Served) -> None:
    bob = client(auth_server, "key-bob")
    assert bob.initialize().status == 200
    session = {
        "Mcp-Session-Id": str(bob.session_id),
        "MCP-Protocol-Version": bob.version,
    }
    anonymous = client(auth_server, None)

    initialize = anonymous.post(
        {"jsonrpc": "2.0", "id": "init-1", "method": "initialize", "params": {}},
        session=False,
    )
    batch = anonymous.post(
        [{"jsonrpc": "2.0", "id": 1, "method": "ping"}],
        headers={**session, "MCP-Protocol-Version": "2025-03-26"},
    )
    notification = anonymous.post(
        {"jsonrpc": "2.0", "method": "notifications/initialized"}, headers=session
    )
    probe = anonymous.post(
        {"jsonrpc": "2.0", "id": "probe", "method": "server/discover"}, session=False
    )
    get = auth_server.http.request(
        "GET", "/mcp", headers={"Accept": "text/event-stream", **session}
    )
    delete = auth_server.http.request("DELETE", "/mcp", headers=session)
    for reply, request_id in [
        (initialize, "init-1"),
        (batch, None),
        (notification, None),
        (probe, "probe"),
        (get, None),
        (delete, None),
    ]:
        assert reply.status == 401, reply.body
        check_challenge(reply, auth_server, True, None)
        body = reply.json()
        # No readable id (GET, DELETE, a batch, a notification): "id" is left out.
        assert body.pop("id", None) == request_id
        assert body == {
            "jsonrpc": "2.0",
            "error": {"code": AUTH_ERROR, "message": "Unauthorized"},
        }
    assert bob.names("tools")  # the session is still there


# ---------------------------------------------------------------------------
# session isolation


def test_a_session_belongs_to_the_principal_that_opened_it(auth_server: Served) -> None:
    alice = client(auth_server, "key-alice")
    assert alice.initialize().status == 200
    session = {"Mcp-Session-Id": str(alice.session_id)}

    bob = client(auth_server, "key-bob")
    bob.session_id, bob.version = alice.session_id, alice.version
    stolen = bob.rpc("tools/list", request_id=41)
    assert stolen.status == 404
    assert stolen.json() == {
        "jsonrpc": "2.0",
        "id": 41,
        "error": {"code": SESSION_NOT_FOUND, "message": "Session not found"},
    }
    # ... exactly what a session id that never existed gets
    bob.session_id = uuid.uuid4().hex
    unknown = bob.rpc("tools/list", request_id=41)
    assert (unknown.status, unknown.body) == (stolen.status, stolen.body)

    bob_headers = {**bob.headers, **session, "MCP-Protocol-Version": alice.version}
    get = auth_server.http.request(
        "GET", "/mcp", headers={**bob_headers, "Accept": "text/event-stream"}
    )
    assert get.status == 404 and get.json()["error"]["code"] == SESSION_NOT_FOUND
    delete = auth_server.http.request("DELETE", "/mcp", headers=bob_headers)
    assert delete.status == 404 and delete.json()["error"]["code"] == SESSION_NOT_FOUND

    # Without credentials the session id alone is nothing: 401, not 404.
    for method, accept in [
        ("POST", None),
        ("GET", "text/event-stream"),
        ("DELETE", None),
    ]:
        headers = {**session, "MCP-Protocol-Version": alice.version}
        if accept:
            headers["Accept"] = accept
        body = None
        if method == "POST":
            headers.update({"Accept": ACCEPT, "Content-Type": "application/json"})
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
        reply = auth_server.http.request(method, "/mcp", headers=headers, body=body)
        assert reply.status == 401, (method, reply.body)
        assert "error" not in reply.challenge()
    # With a refused credential: 401 invalid_token.
    wrong = client(auth_server, "wrong-key")
    wrong.session_id, wrong.version = alice.session_id, alice.version
    refused = wrong.rpc("tools/list")
    assert refused.status == 401 and refused.challenge()["error"] == "invalid_token"

    # Nothing of that touched alice's session, which bob could not DELETE.
    assert "tool_admin" in alice.names("tools")


def test_the_session_binds_the_principal_not_the_key(auth_server: Served) -> None:
    """Two keys of one subject share sessions (the binding is who, not which key)."""
    bob = client(auth_server, "key-bob")
    assert bob.initialize().status == 200
    other_key = client(auth_server, "key-bob-2")
    other_key.session_id, other_key.version = bob.session_id, bob.version
    assert other_key.names("tools") == bob.names("tools")


def test_a_deleted_session_is_gone_for_its_owner(auth_server: Served) -> None:
    carol = client(auth_server, "key-carol")
    assert carol.initialize().status == 200
    headers = {**carol.headers, "Mcp-Session-Id": str(carol.session_id)}
    assert auth_server.http.request("DELETE", "/mcp", headers=headers).status == 204
    gone = carol.rpc("tools/list")
    assert gone.status == 404
    assert json.loads(gone.body)["error"]["code"] == SESSION_NOT_FOUND


def test_authentication_required_from_authenticate_is_a_401(tmp_path: t.Any) -> None:
    """BUG: ``AuthGate.challenge_headers`` (guard.py) rebuilds the error with
    ``type(error)(description, error=..., scopes=..., status_code=...)`` to add
    ``scopes_supported``; ``AuthenticationRequired.__init__`` takes only a
    description, so raising it from ``authenticate`` (it is an ``Unauthorized``)
    with oauth discovery on ends in a TypeError and an HTML 500 page."""
    app = apps.create_app(instance_path=str(tmp_path))
    client = McpClient(Http(app=app), {"X-Test-Auth": "authentication-required"})
    reply = client.rpc("tools/list", request_id=3, session=False)
    assert (reply.status, reply.content_type) == (401, "application/json"), reply.body[
        :80
    ]
    assert reply.json()["id"] == 3
    assert "error" not in reply.challenge()
    assert reply.challenge()["scope"] == "x:read x:write"
