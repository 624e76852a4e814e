"""FlaskMCP as a Flask extension: init_app, config, several servers, CLI."""

from __future__ import annotations

import json

import pytest
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.config import DEFAULTS

HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
}


def _app(tmp_path, **config) -> Flask:
    app = Flask(__name__, instance_path=str(tmp_path / "instance"))
    app.config.update(config)
    return app


def _rpc(client, path: str, method: str, params: dict | None = None, session=None):
    headers = dict(HEADERS)
    if session:
        headers["Mcp-Session-Id"] = session
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params or {}}
    response = client.post(path, data=json.dumps(body), headers=headers)
    return response, response.get_json()


def _initialize(client, path: str) -> str:
    response, _ = _rpc(
        client,
        path,
        "initialize",
        {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {}},
    )
    assert response.status_code == 200
    return response.headers["Mcp-Session-Id"]


def test_two_phase_setup_and_defaults(tmp_path) -> None:
    mcp = FlaskMCP(name="later", version="9")
    app = _app(tmp_path, MCP_PAGE_SIZE=7)
    mcp.init_app(app)
    assert app.extensions["mcp"]["mcp"].mcp is mcp
    assert app.config["MCP_PAGE_SIZE"] == 7  # set by the app: kept
    for key, value in DEFAULTS.items():
        if key != "MCP_PAGE_SIZE":
            assert app.config[key] == value
    client = app.test_client()
    response, body = _rpc(
        client,
        "/mcp",
        "initialize",
        {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {}},
    )
    assert body["result"]["serverInfo"] == {"name": "later", "version": "9"}
    assert body["result"]["protocolVersion"] == "2025-06-18"


def test_two_servers_on_one_app_do_not_collide(tmp_path) -> None:
    app = _app(tmp_path)
    public = FlaskMCP(app, name="public", path="/public/mcp", blueprint_name="public")
    admin = FlaskMCP(app, name="admin", path="/admin/mcp", blueprint_name="admin")

    @public.tool()
    def hello() -> str:
        """Say hello."""
        return "hello"

    @admin.tool()
    def purge() -> str:
        """Purge caches."""
        return "purged"

    client = app.test_client()
    for path, expected in (("/public/mcp", ["hello"]), ("/admin/mcp", ["purge"])):
        session = _initialize(client, path)
        _, body = _rpc(client, path, "tools/list", session=session)
        assert [tool["name"] for tool in body["result"]["tools"]] == expected
    # A session of one server is unknown to the other.
    session = _initialize(client, "/public/mcp")
    response, body = _rpc(client, "/admin/mcp", "tools/list", session=session)
    assert response.status_code == 404
    assert body["error"]["code"] == -32001


def test_same_blueprint_name_twice_is_refused(tmp_path) -> None:
    app = _app(tmp_path)
    FlaskMCP(app)
    with pytest.raises(RuntimeError, match="already on this app"):
        FlaskMCP(app, path="/other")


def test_memory_store_warns(tmp_path) -> None:
    app = _app(tmp_path, MCP_STORE_URL="memory://")
    with pytest.warns(UserWarning, match="one process"):
        FlaskMCP(app)


def test_invalid_tool_name_is_refused() -> None:
    mcp = FlaskMCP()
    with pytest.raises(ValueError, match="must match"):

        @mcp.tool(name="has space")
        def bad() -> str:
            return ""


def test_cli_lists_and_purges(tmp_path) -> None:
    app = _app(tmp_path)
    mcp = FlaskMCP(app)

    @mcp.tool()
    def ping_tool() -> str:
        """Ping."""
        return "pong"

    @mcp.resource("notes://{id}")
    def note(id: str) -> str:
        """A note."""
        return id

    from flask_mcp.auth import require_role

    def is_bob(session: object) -> bool:
        return False

    @mcp.tool(can_access=require_role("admin"), read_only=True, destructive=False)
    def guarded() -> str:
        """Admins only."""
        return ""

    @mcp.prompt(can_access=is_bob)
    def for_bob() -> str:
        return ""

    runner = app.test_cli_runner()
    result = runner.invoke(args=["mcp", "list"])
    assert result.exit_code == 0
    assert "mcp (/mcp):" in result.output
    assert "tool      ping_tool\n" in result.output
    assert "template  notes://{id}" in result.output
    assert (
        "tool      guarded  [can_access=require_role('admin'), readOnlyHint,"
        " destructiveHint=False]" in result.output
    )
    assert (
        "prompt    for_bob  [can_access=test_cli_lists_and_purges.<locals>.is_bob]"
        in result.output
    )
    result = runner.invoke(args=["mcp", "purge"])
    assert result.exit_code == 0 and "expired entries removed" in result.output


def test_route_works_before_and_after_init_app(tmp_path) -> None:
    app = _app(tmp_path)
    mcp = FlaskMCP(name="routes")

    @mcp.route("/early", public=True)
    def early() -> str:
        return "early"

    mcp.init_app(app)

    @mcp.route("/late", public=True)
    def late() -> str:
        return "late"

    client = app.test_client()
    assert client.get("/early").text == "early"
    assert client.get("/late").text == "late"
    with app.test_request_context():
        from flask import url_for

        assert url_for("mcp.early") == "/early"
        assert url_for("mcp.late") == "/late"


def test_public_api_resolves_and_auth_is_lazy() -> None:
    import subprocess
    import sys

    import flask_mcp

    assert set(flask_mcp._LAZY) <= set(flask_mcp.__all__)
    for name in flask_mcp.__all__:
        assert getattr(flask_mcp, name) is not None
    # A server without auth does not load the JWT, HTTP-client or proxy stacks.
    code = (
        "import sys, tempfile, flask_mcp; from flask import Flask;"
        " flask_mcp.FlaskMCP(Flask('x', instance_path=tempfile.mkdtemp()));"
        " print(sorted(m for m in ('joserfc', 'requests', 'cryptography',"
        " 'flask_mcp.auth.proxy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "[]", out.stderr
