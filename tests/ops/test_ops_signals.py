"""The seam: what the endpoint, the guard, the store and the streams announce
to :mod:`flask_mcp.signals`, and that nobody pays when nobody listens."""

from __future__ import annotations

import typing as t
from contextlib import contextmanager

import pytest
from blinker import Signal
from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp import signals
from flask_mcp.testing import MCPError

from .helpers import register


@contextmanager
def caught(signal: Signal, sender: t.Any = None) -> t.Iterator[list[dict[str, t.Any]]]:
    """Everything ``signal`` sends while the block runs (from ``sender``)."""
    seen: list[dict[str, t.Any]] = []

    def receiver(sent_by: t.Any, **kwargs: t.Any) -> None:
        seen.append({"sender": sent_by, **kwargs})

    if sender is None:
        signal.connect(receiver, weak=False)
    else:
        signal.connect(receiver, sender=sender, weak=False)
    try:
        yield seen
    finally:
        signal.disconnect(receiver)


@pytest.fixture
def served(mcp: FlaskMCP, app: Flask) -> FlaskMCP:
    register(mcp)
    return mcp


@pytest.mark.parametrize("version", ["2025-11-25", "2026-07-28"])
def test_each_request_message_is_announced_with_its_outcome(
    served: FlaskMCP, app: Flask, version: str
) -> None:
    with (
        caught(signals.operation_started, app) as started,
        caught(signals.operation_finished, app) as finished,
        served.test_client(app, protocol_version=version) as client,
    ):
        client.call_tool("add", {"a": 1, "b": 2})
        client.call_tool("fails")
        client.call_tool("crashes")
        with pytest.raises(MCPError):
            client.call_tool("missing")
        client.read_resource("notes://7")
        client.get_prompt("greet", {"name": "Ann"})
    operations = [e["operation"] for e in finished]
    calls = [op for op in operations if op.method not in ("tools/list", "initialize")]
    opened = [op for op in operations if op.method == "initialize"]
    assert [op.outcome for op in opened] == ([] if version == "2026-07-28" else ["ok"])
    assert [(op.method, op.name, op.outcome) for op in calls] == [
        ("tools/call", "add", "ok"),
        ("tools/call", "fails", "tool_error"),
        ("tools/call", "crashes", "tool_error"),
        ("tools/call", "missing", "error"),
        ("resources/read", "notes://7", "ok"),
        ("prompts/get", "greet", "ok"),
    ]
    assert [e["operation"] for e in started] == operations
    add = calls[0]
    assert add.protocol_version == version
    assert add.arguments == {"a": 1, "b": 2}
    assert add.error_code is None and add.duration > 0
    assert calls[3].error_code == -32602
    assert calls[3].target == ""
    # The resource is named by its template for metrics, by its URI in logs.
    assert calls[4].target == "notes://{id}"
    if version == "2026-07-28":
        assert add.session_id is None
    else:
        assert add.session_id is not None


def test_unknown_names_never_become_metric_labels(served: FlaskMCP, app: Flask) -> None:
    with (
        caught(signals.operation_finished, app) as finished,
        served.test_client(app) as client,
    ):
        for name in ("nope", "x" * 5000):
            with pytest.raises(MCPError):
                client.call_tool(name)
        with pytest.raises(MCPError):
            client.read_resource("other://1")
    ops = [
        e["operation"]
        for e in finished
        if e["operation"].method not in ("tools/list", "initialize")
    ]
    assert [op.target for op in ops] == ["", "", ""]
    assert ops[0].name == "nope"
    assert ops[1].name is not None and len(ops[1].name) == 256


def test_trace_context_travels_with_the_operation(served: FlaskMCP, app: Flask) -> None:
    parent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    http_parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with caught(signals.operation_started, app) as started:
        response = app.test_client().post(
            "/mcp",
            json={
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {
                    "name": "add",
                    "arguments": {"a": 1, "b": 1},
                    "_meta": {
                        "traceparent": parent,
                        "io.modelcontextprotocol/protocolVersion": "2026-07-28",
                        "io.modelcontextprotocol/clientCapabilities": {},
                    },
                },
            },
            headers={
                "Accept": "application/json, text/event-stream",
                "MCP-Protocol-Version": "2026-07-28",
                "Mcp-Method": "tools/call",
                "Mcp-Name": "add",
                "traceparent": http_parent,
            },
        )
    assert response.status_code == 200, response.json
    operation = started[0]["operation"]
    assert operation.meta["traceparent"] == parent
    assert operation.header is not None
    assert operation.header("traceparent") == http_parent


def test_auth_refusals_are_announced_with_a_reason(tmp_path: t.Any) -> None:
    def authenticate(request: t.Any) -> t.Any:
        return {"sub": "ann"} if request.headers.get("X-Key") == "k" else None

    mcp = FlaskMCP(authenticate=authenticate)
    app = Flask("refusals", instance_path=str(tmp_path))
    mcp.init_app(app)

    @mcp.route("/private")
    def private() -> str:
        return "ok"

    with caught(signals.auth_refused, app) as refused:
        response = app.test_client().post(
            "/mcp",
            json={"jsonrpc": "2.0", "id": 3, "method": "ping"},
            headers={"Accept": "application/json, text/event-stream"},
        )
        assert response.status_code == 401
        assert app.test_client().get("/private").status_code == 401
    assert [
        (e["refusal"].kind, e["refusal"].reason, e["refusal"].status) for e in refused
    ] == [("auth", "unauthenticated", 401)] * 2
    assert refused[0]["refusal"].request_id == 3
    assert refused[1]["refusal"].path == "/private"


def test_nothing_is_built_while_nobody_listens(
    served: FlaskMCP, app: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No receiver for this app: no Operation is made (the fast path of every
    request), whatever other apps of the process have."""
    other = Flask("observed")
    signals.operation_finished.connect(lambda *a, **k: None, sender=other, weak=False)
    assert not signals.operation_finished.has_receivers_for(app)

    def refuse(*args: t.Any, **kwargs: t.Any) -> None:
        raise AssertionError("an Operation was built with nobody listening")

    monkeypatch.setattr(signals, "Operation", refuse)
    with served.test_client(app) as client:
        result = client.call_tool("add", {"a": 2, "b": 2})
    assert result["content"] == [{"type": "text", "text": "4"}]


def test_held_streams_are_announced_open_and_closed(mcp: FlaskMCP, app: Flask) -> None:
    from flask_mcp import Context

    @mcp.tool
    def slow(ctx: Context) -> str:
        ctx.log("info", "working")
        return "done"

    with (
        caught(signals.stream_opened, app) as opened,
        caught(signals.stream_closed, app) as closed,
        mcp.test_client(app) as client,
    ):
        client.call_tool("slow")
    assert [e["stream"].kind for e in opened] == ["request"]
    assert closed[0]["stream"] is opened[0]["stream"]
    assert closed[0]["stream"].duration >= 0
