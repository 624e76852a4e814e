"""The description of a held stream, as a gateway would use it, and a hold
in the worker where the capacity is unknown (the development server, sync
workers): bounded by ``MCP_LISTEN_HOLD``, keep-alives meanwhile."""

from __future__ import annotations

import json
import typing as t

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.transport.bus import REOPEN
from flask_mcp.transport.bus import Change
from flask_mcp.transport.bus import list_channel
from flask_mcp.transport.bus import principal_channel
from flask_mcp.transport.bus import resource_channel
from flask_mcp.transport.bus import session_channel
from flask_mcp.transport.holds import SLOT
from flask_mcp.transport.holds import HeldStream
from flask_mcp.transport.holds import publication

TOOLS = Change("notifications/tools/list_changed", {})


def data(event: bytes) -> t.Any:
    line = next(x for x in event.decode().splitlines() if x.startswith("data: "))
    return json.loads(line[6:])


def test_each_change_has_its_channel() -> None:
    updated = Change("notifications/resources/updated", {"uri": "notes://a"})
    assert TOOLS.channels() == (list_channel("tools"),)
    assert updated.channels() == (resource_channel("notes://a"),)
    assert Change("x", {}, session="s" * 16).channels() == (session_channel("s" * 16),)
    assert Change("x", {}, principal="alice").channels() == (
        principal_channel("alice"),
    )
    assert Change("notifications/other", {}).channels() == ("broadcast",)
    # Channel names a gateway can use as they are.
    for channel in [*updated.channels(), principal_channel("\u00e9\u0000" * 500)]:
        assert channel.isascii() and len(channel) <= 72


def test_a_publication_renders_both_eras() -> None:
    published = publication(7, TOOLS)
    assert published.channels == (list_channel("tools"),)
    assert published.session.startswith(b"id: _.7\n")
    assert data(published.session) == {
        "jsonrpc": "2.0",
        "method": "notifications/tools/list_changed",
        "params": {},
    }
    # The listen event is a template: the gateway puts the id in the slot.
    filled = published.listen.replace(SLOT.encode(), b'"listen-3"')
    assert data(filled)["params"] == {
        "_meta": {"io.modelcontextprotocol/subscriptionId": "listen-3"}
    }
    assert b"id:" not in published.listen  # no resumption on 2026-07-28


def test_a_reopen_is_a_control_not_a_message() -> None:
    published = publication(9, Change(REOPEN, {}, session="s" * 16))
    assert published.reopen
    assert published.session == b"id: _.9\nretry: 0\ndata: \n\n"


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


def test_what_is_sent_to_a_principal_reaches_only_streams_that_follow_it() -> None:
    """A 2025 GET never gets it (the tasks extension's notifications are for
    listens that ask for them); a stream following the principal does."""
    change = Change("notifications/tasks/status", {"taskId": "t1"}, principal="alice")
    get = HeldStream("session", b"", 0, frozenset({list_channel("tools")}))
    follower = HeldStream("listen", b"", 0, frozenset({principal_channel("alice")}))
    other = HeldStream("listen", b"", 0, frozenset({principal_channel("bob")}))
    assert not get.wants(change)
    assert follower.wants(change) and not other.wants(change)
    # Kept in the log under the key the tasks branch reads.
    assert Change.from_record(change.record()) == change
    assert change.record()["t"] == "alice"
