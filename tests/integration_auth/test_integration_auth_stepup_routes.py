"""Step-up authorization and protected custom routes, through gunicorn.

A step-up tool (``step_up=True``) stays listed to everyone and answers a
caller without its scopes with HTTP 403 ``insufficient_scope`` naming them.
Routes added with ``@mcp.route`` or guarded with ``@mcp.protected`` refuse
like the MCP endpoint (same challenge) and hand the auth session to the view
in ``flask.g.mcp_auth``.
"""

from __future__ import annotations

import typing as t

import pytest

from . import apps
from .conftest import Served
from .helpers import AUTH_ERROR
from .helpers import INVALID_PARAMS
from .helpers import Http
from .helpers import McpClient


def mcp_client(
    served: Served, key: str | None, version: str | None = None
) -> McpClient:
    client = McpClient(served.http, {"X-API-Key": key} if key else {})
    if version:
        client.version = version
    assert client.initialize().status == 200
    return client


# ---------------------------------------------------------------------------
# step-up


def test_a_step_up_tool_is_listed_to_callers_without_its_scopes(
    auth_server: Served,
) -> None:
    for key in ("key-alice", "key-bob", "key-dave"):
        assert {"write_x", "write_rw"} <= mcp_client(auth_server, key).names("tools")


@pytest.mark.parametrize(
    ("key", "tool", "scope"),
    [
        ("key-bob", "write_x", "x:write"),
        ("key-dave", "write_x", "x:write"),
        ("key-carol", "write_rw", "x:read x:write"),  # require_all: the union
        ("key-bob", "write_rw", "x:read x:write"),
    ],
)
def test_calling_a_step_up_tool_without_its_scopes_is_403_insufficient_scope(
    auth_server: Served, key: str, tool: str, scope: str
) -> None:
    client = mcp_client(auth_server, key)
    reply = client.rpc(
        "tools/call", {"name": tool, "arguments": {}}, request_id=f"call-{tool}"
    )
    assert reply.status == 403
    challenge = reply.challenge()
    assert challenge["error"] == "insufficient_scope"
    assert challenge["scope"] == scope
    assert challenge["resource_metadata"] == (
        auth_server.url + "/.well-known/oauth-protected-resource/mcp"
    )
    body = reply.json()
    assert body["id"] == f"call-{tool}"
    assert body["error"]["code"] == AUTH_ERROR
    assert "result" not in body


@pytest.mark.parametrize(
    ("key", "tool", "text"),
    [
        ("key-alice", "write_x", "WROTE by alice"),
        ("key-carol", "write_x", "WROTE by carol"),
        ("key-alice", "write_rw", "WROTE rw"),
    ],
)
def test_a_step_up_tool_works_with_its_scopes(
    auth_server: Served, key: str, tool: str, text: str
) -> None:
    result = mcp_client(auth_server, key).result(
        "tools/call", {"name": tool, "arguments": {}}
    )
    assert result["content"] == [{"type": "text", "text": text}]


def test_step_up_without_oauth_still_names_the_scope(tmp_path: t.Any) -> None:
    app = apps.create_app(instance_path=str(tmp_path), oauth="off")
    client = McpClient(Http(app=app), {"X-API-Key": "key-bob"})
    assert client.initialize().status == 200
    reply = client.rpc("tools/call", {"name": "write_x", "arguments": {}})
    assert reply.status == 403
    assert reply.challenge() == {
        "scope": "x:write",
        "error": "insufficient_scope",
        "error_description": "tool write_x needs more scopes",
    }


def test_a_step_up_tool_in_a_batch_is_not_run_without_its_scopes(
    tmp_path: t.Any,
) -> None:
    """BUG: ``Endpoint._batch`` never calls ``_step_up``, and ``allows`` lets
    every step-up tool through, so a 2025-03-26 batch runs the tool for a
    caller who lacks its scopes."""
    app = apps.create_app(instance_path=str(tmp_path))
    bob = McpClient(Http(app=app), {"X-API-Key": "key-bob"}, version="2025-03-26")
    assert bob.initialize().status == 200
    reply = bob.post(
        [
            {
                "jsonrpc": "2.0",
                "id": "b1",
                "method": "tools/call",
                "params": {"name": "write_x", "arguments": {}},
            }
        ]
    )
    assert "WROTE" not in reply.body.decode(), "the tool ran without x:write"
    if reply.status == 200:
        (answer,) = reply.json()
        assert "error" in answer, answer
    else:
        assert reply.status == 403
        assert reply.challenge()["error"] == "insufficient_scope"


def test_a_tools_call_with_a_non_string_name_is_a_json_rpc_error(
    tmp_path: t.Any,
) -> None:
    """BUG: ``Endpoint._step_up`` looks the name up in a dict before checking
    its type; a list name raises ``TypeError`` and the client gets Flask's
    HTML 500 page instead of a JSON-RPC error."""
    app = apps.create_app(instance_path=str(tmp_path))
    bob = McpClient(Http(app=app), {"X-API-Key": "key-bob"})
    assert bob.initialize().status == 200
    reply = bob.rpc("tools/call", {"name": ["write_x"], "arguments": {}})
    assert reply.content_type == "application/json", (reply.status, reply.body[:80])
    assert reply.status == 200
    assert reply.json()["error"]["code"] == INVALID_PARAMS


# ---------------------------------------------------------------------------
# protected routes


ROUTES = ["/api/me", "/plain/me"]
ADMIN_ROUTES = ["/api/admin", "/plain/admin"]
WRITE_ROUTES = ["/api/write", "/plain/write"]
ALL_ROUTES = ROUTES + ADMIN_ROUTES + WRITE_ROUTES


def endpoint_challenge(served: Served, headers: dict[str, str]) -> dict[str, str]:
    reply = McpClient(served.http, headers).rpc("tools/list", session=False)
    assert reply.status == 401
    return reply.challenge()


@pytest.mark.parametrize("path", ALL_ROUTES)
def test_a_protected_route_refuses_like_the_mcp_endpoint(
    auth_server: Served, path: str
) -> None:
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-Test-Auth": "none"}):
        reply = auth_server.http.get(path, headers=headers)
        assert reply.status == 401, (headers, reply.body)
        assert reply.content_type == "application/json"
        assert reply.challenge() == endpoint_challenge(auth_server, headers)
    assert "error" not in endpoint_challenge(auth_server, {})
    assert endpoint_challenge(auth_server, {"X-API-Key": "wrong"})["error"] == (
        "invalid_token"
    )
    assert (
        auth_server.http.get(path, headers={"X-Test-Auth": "abort-403"}).status == 403
    )


@pytest.mark.parametrize("path", ROUTES)
@pytest.mark.parametrize("key", ["key-alice", "key-bob", "key-dave"])
def test_a_protected_route_sees_the_auth_session(
    auth_server: Served, path: str, key: str
) -> None:
    reply = auth_server.http.get(path, headers={"X-API-Key": key})
    assert reply.status == 200
    assert reply.json() == {"route": path, "session": apps.SESSIONS[key]}


@pytest.mark.parametrize("path", ADMIN_ROUTES)
def test_a_route_check_refuses_with_403(auth_server: Served, path: str) -> None:
    for key in ("key-bob", "key-carol", "key-dave"):
        reply = auth_server.http.get(path, headers={"X-API-Key": key})
        assert reply.status == 403, key
        assert reply.header("WWW-Authenticate") is None  # a role: no scope to ask
    allowed = auth_server.http.get(path, headers={"X-API-Key": "key-alice"})
    assert allowed.status == 200
    assert allowed.json()["session"]["sub"] == "alice"


@pytest.mark.parametrize("path", WRITE_ROUTES)
def test_a_route_scope_check_refuses_with_insufficient_scope(
    auth_server: Served, path: str
) -> None:
    reply = auth_server.http.get(path, headers={"X-API-Key": "key-bob"})
    assert reply.status == 403
    assert reply.challenge() == {
        "resource_metadata": auth_server.url
        + "/.well-known/oauth-protected-resource/mcp",
        "scope": "x:write",
        "error": "insufficient_scope",
        "error_description": "access denied",
    }
    assert reply.json() == {
        "error": "insufficient_scope",
        "error_description": "access denied",
    }
    allowed = auth_server.http.get(path, headers={"X-API-Key": "key-carol"})
    assert allowed.status == 200
    assert allowed.json()["session"]["sub"] == "carol"


def test_a_public_route_needs_no_credentials(auth_server: Served) -> None:
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-Test-Auth": "abort-403"}):
        reply = auth_server.http.get("/api/public", headers=headers)
        assert reply.status == 200
        assert reply.json() == {"public": True, "has_auth": False}


def test_protected_routes_of_an_app_without_authenticate_let_nobody_in(
    tmp_path: t.Any,
) -> None:
    http = Http(app=apps.create_app(instance_path=str(tmp_path), anonymous=True))
    for path in ALL_ROUTES:
        reply = http.get(path)
        assert reply.status == 401, path
        assert reply.challenge()["resource_metadata"] == (
            "http://localhost/.well-known/oauth-protected-resource/mcp"
        )
    assert http.get("/api/public").status == 200
