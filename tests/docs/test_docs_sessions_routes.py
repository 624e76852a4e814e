"""The examples of the sessions guide and the custom routes guide."""

from __future__ import annotations

import pytest

from flask_mcp.testing import MCPError


def test_typed_session(load_example):
    example = load_example("sessions")
    headers = {"Authorization": "Token token-ada"}
    with example.mcp.test_client(example.app, headers=headers) as client:
        assert client.call_tool("me")["structuredContent"] == {
            "name": "Ada",
            "scopes": ["notes:read", "notes:write"],
            "roles": ["admin"],
            "same_object": True,
        }
        assert client.call_tool("greet")["content"][0]["text"] == "Hello, Ada!"


def test_no_session_is_a_401(load_example):
    example = load_example("sessions")
    with pytest.raises(MCPError) as refused:
        with example.mcp.test_client(example.app):
            pass
    assert refused.value.status == 401


@pytest.mark.parametrize(
    ("method", "path", "key", "status"),
    [
        ("get", "/api/me", None, 401),
        ("get", "/api/me", "key-bob", 200),
        ("delete", "/api/orders/7", "key-bob", 403),
        ("delete", "/api/orders/7", "key-ada", 200),
        ("get", "/health", None, 200),
        ("get", "/reports/daily", "key-bob", 403),
        ("get", "/reports/daily", "key-ada", 200),
    ],
)
def test_routes(load_example, method, path, key, status):
    example = load_example("routes")
    headers = {"X-API-Key": key} if key else {}
    response = getattr(example.app.test_client(), method)(path, headers=headers)
    assert response.status_code == status
    if status == 401:
        assert response.headers["WWW-Authenticate"] == 'ApiKey header="X-API-Key"'


def test_route_bodies(load_example):
    example = load_example("routes")
    client = example.app.test_client()
    me = client.get("/api/me", headers={"X-API-Key": "key-bob"})
    assert me.get_json() == {"sub": "bob", "role": "user"}
    cancelled = client.delete("/api/orders/7", headers={"X-API-Key": "key-ada"})
    assert cancelled.get_json() == {"cancelled": 7}
    report = client.get("/reports/daily", headers={"X-API-Key": "key-ada"})
    assert report.get_json() == {"orders": 42, "by": "ada"}
    assert "mcp.cancel_order" in {
        rule.endpoint for rule in example.app.url_map.iter_rules()
    }
