"""The description of a held stream, as a gateway would use it, and a hold
in the worker where the capacity is unknown (the development server, sync
workers): bounded by ``MCP_LISTEN_HOLD``, keep-alives meanwhile."""

from __future__ import annotations

import json
import typing as t

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.transport.bus import Change
from flask_mcp.transport.bus import list_channel
from flask_mcp.transport.bus import resource_channel
from flask_mcp.transport.bus import session_channel
from flask_mcp.transport.bus import task_channel
from flask_mcp.transport.holds import HeldStream

TOOLS = Change("notifications/tools/list_changed", {})


def data(event: bytes) -> t.Any:
    line = next(x for x in event.decode().splitlines() if x.startswith("data: "))
    return json.loads(line[6:])


def test_each_change_has_its_channel() -> None:
    updated = Change("notifications/resources/updated", {"uri": "notes://a"})
    assert TOOLS.channels() == (list_channel("tools"),)
    assert updated.channels() == (resource_channel("notes://a"),)
    assert Change("x", {}, session="s" * 16).channels() == (session_channel("s" * 16),)
    assert Change("notifications/other", {}).channels() == ("broadcast",)
    # Channel names a gateway can use as they are.
    for channel in [*updated.channels(), task_channel("\u00e9\u0000" * 500)]:
        assert channel.isascii() and len(channel) <= 72


def test_graceful_ends_and_failures() -> None:
    listen = HeldStream(
        "listen", b"", 3, frozenset(), values={"subscriptionId": "5"}, request_id=5
    )
    assert data(listen.end(3)) == {
        "jsonrpc": "2.0",
        "id": 5,
        "result": {
            "resultType": "complete",
            "_meta": {"io.modelcontextprotocol/subscriptionId": 5},
        },
    }
    assert data(listen.failure("down", 2000))["error"]["message"] == "down"
    get = HeldStream("session", b"", 3, frozenset(), retry_ms=500)
    assert get.end(11) == b"id: _.11\nretry: 500\ndata: \n\n"
    assert get.end(11, 1700).startswith(b"id: _.11\nretry: 1700\n")
    failed = get.failure("down", 2000)
    assert failed.startswith(b"retry: 2000\n") and data(failed)["id"] is None


def test_without_a_reporting_pool_a_listen_is_held_for_the_fixed_time(
    tmp_path: t.Any,
) -> None:
    app = Flask(__name__, instance_path=str(tmp_path))
    app.config.update(MCP_LISTEN_HOLD=0.5, MCP_KEEPALIVE_INTERVAL=0.1)
    FlaskMCP(app)
    meta = {
        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
        "io.modelcontextprotocol/clientCapabilities": {},
    }
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "subscriptions/listen",
        "params": {"_meta": meta, "notifications": {"toolsListChanged": True}},
    }
    headers = {
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "subscriptions/listen",
    }
    text = app.test_client().post("/mcp", json=body, headers=headers).get_data(True)
    events = [e for e in text.split("\n\n") if e]
    assert events[0].startswith("event: message")  # the acknowledgement
    assert ": keep-alive" in events[1:-1]
    assert json.loads(events[-1].split("data: ", 1)[1])["result"] == {
        "resultType": "complete",
        "_meta": {"io.modelcontextprotocol/subscriptionId": 1},
    }
