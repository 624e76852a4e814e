"""``/healthz`` and ``/readyz``: cheap, unauthenticated, not advertised,
and ready only when the store answers and the keys are at hand."""

from __future__ import annotations

import json
import os
import signal
import time
import typing as t
from pathlib import Path

import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth import bearer_auth
from support import RedisServer


def make_app(tmp_path: Path, **config: t.Any) -> Flask:
    app = Flask("probes", instance_path=str(tmp_path))
    app.config.update(config)
    FlaskMCP(
        app,
        authenticate=bearer_auth(lambda token: {"sub": "x"} if token == "t" else None),
        oauth={
            "enabled": True,
            "protected_resource": {"authorization_servers": ["https://as.example"]},
        },
    )
    return app


def test_both_answer_without_credentials(tmp_path: Path) -> None:
    client = make_app(tmp_path).test_client()
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {
        "status": "ready",
        "checks": {"mcp.store": "ok", "mcp.keys": "ok"},
    }
    assert ready.headers["Cache-Control"] == "no-store"
    # The endpoint itself is still closed.
    assert client.post("/mcp", json={}).status_code in (401, 406)


def test_they_are_not_advertised(tmp_path: Path) -> None:
    client = make_app(tmp_path).test_client()
    document = client.get("/.well-known/oauth-protected-resource/mcp")
    assert document.status_code == 200
    assert "healthz" not in document.get_data(True)
    assert "readyz" not in document.get_data(True)
    challenge = client.post("/mcp", json={}, headers={"Accept": "application/json"})
    assert "healthz" not in str(challenge.headers)


def test_paths_can_be_moved_or_turned_off(tmp_path: Path) -> None:
    client = make_app(
        tmp_path, MCP_HEALTH_PATH="/-/live", MCP_READY_PATH=None
    ).test_client()
    assert client.get("/-/live").status_code == 200
    assert client.get("/healthz").status_code == 404
    assert client.get("/readyz").status_code == 404


def test_a_path_must_be_a_path(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="MCP_READY_PATH must be a path"):
        make_app(tmp_path, MCP_READY_PATH="readyz")


def test_several_servers_one_probe_checking_each(tmp_path: Path) -> None:
    app = Flask("two", instance_path=str(tmp_path))
    FlaskMCP(app)
    FlaskMCP(app, blueprint_name="second", path="/mcp2")
    checks = app.test_client().get("/readyz").get_json()["checks"]
    assert set(checks) == {"mcp.store", "mcp.keys", "second.store", "second.keys"}


def test_not_ready_while_the_store_is_down_then_ready_again(tmp_path: Path) -> None:
    server = RedisServer()
    with server:
        app = make_app(tmp_path, MCP_STORE_URL=server.url, MCP_STORE_TIMEOUT=0.5)
        client = app.test_client()
        assert client.get("/readyz").status_code == 200
        assert server.pid is not None
        os.kill(server.pid, signal.SIGSTOP)  # frozen: answers nothing
        try:
            down = client.get("/readyz")
            assert client.get("/healthz").status_code == 200  # still alive
        finally:
            os.kill(server.pid, signal.SIGCONT)
        assert down.status_code == 503
        assert down.headers["Retry-After"]
        assert json.loads(down.data)["checks"]["mcp.store"] == "unavailable"
        # Ready again once the store's probe has found it back (it probes
        # every MCP_STORE_PROBE_INTERVAL seconds; meanwhile calls fail fast).
        deadline = time.monotonic() + 10
        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline, (
                "not ready 10 s after the store came back"
            )
            time.sleep(0.1)


def test_not_ready_when_the_state_key_cannot_be_had(tmp_path: Path) -> None:
    """Without SECRET_KEY the requestState key lives in the store: a store
    that refuses writes leaves the server without it."""
    server = RedisServer()
    with server:
        app = make_app(tmp_path, MCP_STORE_URL=server.url)
        server.command("CONFIG", "SET", "maxmemory", "1")
        server.command("CONFIG", "SET", "maxmemory-policy", "noeviction")
        server.flushall()
        ready = app.test_client().get("/readyz")
        assert ready.status_code == 503
        assert ready.get_json()["checks"] == {
            "mcp.store": "unavailable",
            "mcp.keys": "unavailable",
        }
