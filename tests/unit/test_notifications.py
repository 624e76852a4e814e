"""Server-initiated notifications reach sessions through their GET stream."""

from __future__ import annotations

import json

from flask import Flask

from flask_mcp import FlaskMCP

HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
}


def _server(tmp_path) -> tuple[Flask, FlaskMCP]:
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config["MCP_STREAM_HOLD"] = 0.2
    mcp = FlaskMCP(app)

    @mcp.resource("notes://today")
    def today() -> str:
        """Today's note."""
        return "note"

    return app, mcp


def _session(client) -> dict[str, str]:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}},
    }
    response = client.post("/mcp", data=json.dumps(body), headers=HEADERS)
    return {**HEADERS, "Mcp-Session-Id": response.headers["Mcp-Session-Id"]}


def _rpc(client, headers, method: str, params: dict) -> dict:
    body = {"jsonrpc": "2.0", "id": 2, "method": method, "params": params}
    return client.post("/mcp", data=json.dumps(body), headers=headers).get_json()


def _streamed(client, headers, last_event_id: str | None = None) -> list[dict]:
    """The messages a GET stream delivers before it is closed."""
    get_headers = {**headers, "Accept": "text/event-stream"}
    if last_event_id:
        get_headers["Last-Event-ID"] = last_event_id
    response = client.get("/mcp", headers=get_headers)
    assert response.status_code == 200
    assert response.mimetype == "text/event-stream"
    lines = response.get_data(as_text=True).splitlines()
    return [json.loads(line[6:]) for line in lines if line.startswith("data: {")]


def test_registering_a_tool_while_serving_tells_sessions(tmp_path) -> None:
    app, mcp = _server(tmp_path)
    client = app.test_client()
    headers = _session(client)
    assert _streamed(client, headers) == []
    with app.app_context():

        @mcp.tool()
        def late() -> str:
            """Added at run time."""
            return "late"

        mcp.remove_tool("late")
    methods = [m["method"] for m in _streamed(client, headers, "_.0")]
    assert methods == ["notifications/tools/list_changed"] * 2


def test_subscribers_hear_of_updates_until_they_unsubscribe(tmp_path) -> None:
    app, mcp = _server(tmp_path)
    client = app.test_client()
    subscriber, bystander = _session(client), _session(client)
    assert (
        _rpc(client, subscriber, "resources/subscribe", {"uri": "notes://today"})[
            "result"
        ]
        == {}
    )
    with app.app_context():
        mcp.notify_resource_updated("notes://today")
    assert _streamed(client, subscriber, "_.0") == [
        {
            "jsonrpc": "2.0",
            "method": "notifications/resources/updated",
            "params": {"uri": "notes://today"},
        }
    ]
    assert _streamed(client, bystander, "_.0") == []
    _rpc(client, subscriber, "resources/unsubscribe", {"uri": "notes://today"})
    with app.app_context():
        mcp.notify_resource_updated("notes://today")
    assert _streamed(client, subscriber, "_.1") == []


def test_subscribing_to_an_unknown_resource_is_refused(tmp_path) -> None:
    app, _ = _server(tmp_path)
    client = app.test_client()
    answer = _rpc(client, _session(client), "resources/subscribe", {"uri": "x://y"})
    assert answer["error"]["code"] == -32002
