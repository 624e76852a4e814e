"""Edges of issue 7 that need no server process: discovery documents and
the Host header, and what one ``initialize`` writes to the store."""

from __future__ import annotations

import typing as t

import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.store import Store
from flask_mcp.store.backends import MemoryStoreBackend

OAUTH = {
    "enabled": True,
    "authorization_server": {
        "issuer": "https://auth.example.com",
        "authorization_endpoint": "https://auth.example.com/authorize",
        "token_endpoint": "https://auth.example.com/token",
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
    },
}


class CountingBackend(MemoryStoreBackend):
    """Counts the writes the server makes."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        self.writes.append(key)
        super().set(key, value, ttl)

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        self.writes.append(key)
        return super().add(key, value, ttl)


def test_discovery_documents_check_the_host_and_vary_with_it(tmp_path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config["MCP_ALLOWED_HOSTS"] = ["mcp.example.com"]
    FlaskMCP(app, oauth=OAUTH, authenticate=lambda request: None)
    client = app.test_client()
    good = client.get(
        "/.well-known/oauth-protected-resource/mcp", headers={"Host": "mcp.example.com"}
    )
    assert good.status_code == 200
    assert good.json["resource"] == "http://mcp.example.com/mcp"
    assert "Host" in good.headers["Vary"]
    for path in (
        "/.well-known/oauth-protected-resource/mcp",
        "/.well-known/oauth-authorization-server",
    ):
        forged = client.get(path, headers={"Host": "evil.example"})
        assert forged.status_code == 403, path
        assert forged.json["error"] == "invalid_request"


@pytest.mark.filterwarnings("ignore:flask_mcp is using an in-process store")
def test_initialize_writes_the_same_whatever_the_number_of_sessions(tmp_path) -> None:
    """No key lists every live session: a thousand sessions cost each new
    one exactly what the first did."""
    backend = CountingBackend()
    app = Flask(__name__, instance_path=str(tmp_path))
    FlaskMCP(app, store=Store(backend))
    client = app.test_client()
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-11-25",
            "capabilities": {},
            "clientInfo": {},
        },
    }
    headers = {"Accept": "application/json, text/event-stream"}

    def writes_of_one_initialize() -> list[str]:
        before = len(backend.writes)
        assert client.post("/mcp", json=body, headers=headers).status_code == 200
        return [key.rsplit(":", 1)[0] for key in backend.writes[before:]]

    first = writes_of_one_initialize()
    for _ in range(1000):
        writes_of_one_initialize()
    later = writes_of_one_initialize()
    assert [key for key in later if "sweep" not in key] == [
        key for key in first if "sweep" not in key
    ]
    # The session record, its note in the index of live sessions (a bucket's
    # counter and one slot, for `flask mcp sessions`), at most the sweep lease.
    assert len(later) <= 4


def test_options_is_a_json_era_answer_and_a_cors_preflight(tmp_path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config["MCP_ALLOWED_ORIGINS"] = ["https://inspector.example"]
    FlaskMCP(app)
    client = app.test_client()
    plain = client.options("/mcp")
    assert plain.status_code == 204 and "POST" in plain.headers["Allow"]
    preflight = client.options(
        "/mcp",
        headers={
            "Origin": "https://inspector.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, mcp-protocol-version",
        },
    )
    assert preflight.status_code == 204
    assert (
        preflight.headers["Access-Control-Allow-Origin"] == "https://inspector.example"
    )
    assert "mcp-protocol-version" in preflight.headers["Access-Control-Allow-Headers"]
    answer = client.post(
        "/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={
            "Origin": "https://inspector.example",
            "Accept": "application/json, text/event-stream",
        },
    )
    assert answer.headers["Access-Control-Allow-Origin"] == "https://inspector.example"
    assert "Mcp-Session-Id" in answer.headers["Access-Control-Expose-Headers"]
    assert "Origin" in answer.headers["Vary"]
    foreign = client.options(
        "/mcp",
        headers={
            "Origin": "https://evil.example",
            "Access-Control-Request-Method": "POST",
        },
    )
    assert foreign.status_code == 403
    assert foreign.json["error"]["message"] == "Forbidden: Origin not allowed"


def test_an_unroutable_host_gets_json_on_the_endpoint_only(tmp_path) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    FlaskMCP(app)

    @app.get("/page")
    def page() -> str:
        return "page"

    client = app.test_client()
    endpoint = client.get("/mcp", headers={"Host": "a" * 64})
    assert endpoint.status_code == 400 and endpoint.json["error"]["code"] == -32600
    elsewhere = client.get("/page", headers={"Host": "a" * 64})
    assert elsewhere.status_code == 400 and elsewhere.mimetype == "text/html"
