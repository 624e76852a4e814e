"""``flask mcp sessions``: count, list and end sessions on the file store and
on Redis, as every worker sees them. (The OAuth proxy's commands are tested
with the proxy, in tests/proxy/test_proxy_ops.py.)"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

import pytest
from flask import Flask

from flask_mcp import FlaskMCP

from .helpers import post

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 0,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-11-25",
        "capabilities": {},
        "clientInfo": {"name": "cli-test", "version": "1.2"},
    },
}


def authenticate(request: t.Any) -> t.Any:
    key = request.headers.get("X-Key")
    return {"sub": key} if key else None


@pytest.fixture(params=["file", "redis"])
def app(request: pytest.FixtureRequest, tmp_path: Path) -> Flask:
    app = Flask("sessions", instance_path=str(tmp_path))
    if request.param == "redis":
        server = request.getfixturevalue("redis_server")
        server.flushall()
        app.config["MCP_STORE_URL"] = server.url
    FlaskMCP(app, authenticate=authenticate)
    return app


def open_session(app: Flask, who: str) -> str:
    response = post(app.test_client(), INITIALIZE, **{"X-Key": who})
    assert response.status_code == 200
    return t.cast(str, response.headers["Mcp-Session-Id"])


def ping(app: Flask, session_id: str, who: str) -> int:
    message = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {"X-Key": who, "Mcp-Session-Id": session_id}
    return t.cast(int, post(app.test_client(), message, **headers).status_code)


def test_count_list_and_end(app: Flask) -> None:
    runner = app.test_cli_runner()
    assert runner.invoke(args=["mcp", "sessions", "count"]).output == "mcp: 0\n"
    ann = [open_session(app, "ann") for _ in range(2)]
    bob = open_session(app, "bob")
    assert runner.invoke(args=["mcp", "sessions", "count"]).output == "mcp: 3\n"

    listed = runner.invoke(args=["mcp", "sessions", "list", "--json"])
    assert listed.exit_code == 0, listed.output
    rows = [json.loads(line) for line in listed.output.splitlines()]
    assert {row["id"] for row in rows} == {*ann, bob}
    assert {row["client"] for row in rows} == {"cli-test 1.2"}
    assert {row["protocol_version"] for row in rows} == {"2025-11-25"}
    text = runner.invoke(args=["mcp", "sessions", "list"]).output
    assert bob in text and "cli-test 1.2" in text

    ended = runner.invoke(args=["mcp", "sessions", "end", "--subject", "ann"])
    assert ended.output == "2 sessions ended\n"
    assert [ping(app, s, "ann") for s in ann] == [404, 404]
    assert ping(app, bob, "bob") == 200
    assert runner.invoke(args=["mcp", "sessions", "end", bob]).output == (
        "1 session ended\n"
    )
    assert ping(app, bob, "bob") == 404
    assert runner.invoke(args=["mcp", "sessions", "count"]).output == "mcp: 0\n"


def test_looking_does_not_keep_sessions_alive(app: Flask) -> None:
    session_id = open_session(app, "ann")
    manager = app.extensions["mcp"]["mcp"].endpoint.sessions
    before = manager.load(session_id, touch=False).touched
    manager.save = lambda session: pytest.fail("listing wrote a session")
    app.test_cli_runner().invoke(args=["mcp", "sessions", "list"])
    assert manager.load(session_id, touch=False).touched == before


def test_mistakes(app: Flask) -> None:
    runner = app.test_cli_runner()
    nothing = runner.invoke(args=["mcp", "sessions", "end"])
    assert nothing.exit_code == 2 and "give session ids or --subject" in nothing.output
    unknown = runner.invoke(args=["mcp", "sessions", "count", "--server", "nope"])
    assert unknown.exit_code == 2 and "no server 'nope' (known: mcp)" in unknown.output
    assert runner.invoke(args=["mcp", "sessions", "end", "x" * 40]).output == (
        "0 sessions ended\n"
    )


def test_the_store_down_is_a_clear_error(tmp_path: Path) -> None:
    from support import RedisServer

    server = RedisServer()
    with server:
        app = Flask("down", instance_path=str(tmp_path))
        app.config.update(MCP_STORE_URL=server.url, MCP_STORE_TIMEOUT=0.5)
        FlaskMCP(app)
    result = app.test_cli_runner().invoke(args=["mcp", "sessions", "count"])
    assert result.exit_code == 1
    assert "the store does not answer" in result.output


def test_a_store_that_takes_no_write_fails_end_clearly(
    tmp_path: Path, redis_server: t.Any
) -> None:
    """The sessions are read, but ending one is a write the store reports
    as failed (no replica confirms it): one line of error and status 1, not
    a traceback."""
    redis_server.flushall()
    served = Flask("served", instance_path=str(tmp_path))
    served.config["MCP_STORE_URL"] = redis_server.url
    FlaskMCP(served, authenticate=authenticate)
    open_session(served, "ann")
    operator = Flask("operator", instance_path=str(tmp_path))
    operator.config["MCP_STORE_URL"] = (
        f"{redis_server.url}?replicas=1&replica_timeout=0.1"
    )
    FlaskMCP(operator, authenticate=authenticate)
    runner = operator.test_cli_runner()
    assert runner.invoke(args=["mcp", "sessions", "count"]).output == "mcp: 1\n"

    result = runner.invoke(args=["mcp", "sessions", "end", "--subject", "ann"])
    assert result.exit_code == 1
    assert isinstance(result.exception, SystemExit)  # click's error, no crash
    errors = [line for line in result.output.splitlines() if "Error" in line]
    assert len(errors) == 1
    assert errors[0].startswith("Error: the store does not answer: ")
    assert "Traceback" not in result.output
