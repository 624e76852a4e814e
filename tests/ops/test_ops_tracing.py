"""Spans by the OpenTelemetry semantic conventions for MCP, recorded by the
real SDK (an in-memory exporter)."""

from __future__ import annotations

import importlib.util
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind
from opentelemetry.trace import StatusCode

from flask_mcp import FlaskMCP
from flask_mcp import ToolError
from flask_mcp import signals

from .helpers import call
from .helpers import modern
from .helpers import post

META_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
META_PARENT = f"00-{META_TRACE}-00f067aa0ba902b7-01"
HTTP_TRACE = "0af7651916cd43dd8448eb211c80319c"
HTTP_PARENT = f"00-{HTTP_TRACE}-b7ad6b7169203331-01"

_exporter = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(_exporter))


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[InMemorySpanExporter]:
    """The spans finished during the test, by the SDK."""
    # The global provider can be set once per process: the tracer flask_mcp
    # holds is a proxy, so patching what it resolves to is enough.
    monkeypatch.setattr(trace, "get_tracer_provider", lambda: _provider)
    monkeypatch.setattr(trace, "_TRACER_PROVIDER", _provider)
    _exporter.clear()
    yield _exporter
    _exporter.clear()


def make_app(tmp_path: Path) -> Flask:
    app = Flask("traced", instance_path=str(tmp_path))
    app.config.update(MCP_TRACING=True, MCP_STATELESS=True)
    mcp = FlaskMCP(app)
    inner = trace.get_tracer("a-tool")

    @mcp.tool
    def add(a: int, b: int) -> int:
        with inner.start_as_current_span("inside add"):
            return a + b

    @mcp.tool
    def fails() -> str:
        raise ToolError("nope")

    @mcp.resource("notes://{id}")
    def note(id: str) -> str:
        return id

    @mcp.prompt
    def greet(name: str) -> str:
        return name

    return app


def by_name(exporter: InMemorySpanExporter) -> dict[str, t.Any]:
    return {span.name: span for span in exporter.get_finished_spans()}


def test_a_server_span_per_request_named_by_the_conventions(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    client = make_app(tmp_path).test_client()
    post(client, call("add", {"a": 1, "b": 2}, id=7))
    post(client, call("fails"))
    post(client, call("nope"))
    message, headers = modern("resources/read", {"uri": "notes://4"})
    post(client, message, **headers)
    message, headers = modern(
        "prompts/get", {"name": "greet", "arguments": {"name": "x"}}
    )
    post(client, message, **headers)
    post(client, {"jsonrpc": "2.0", "id": 3, "method": "tools/list"})
    found = by_name(spans)
    assert set(found) == {
        "tools/call add",
        "inside add",
        "tools/call fails",
        "tools/call",
        "resources/read notes://{id}",
        "prompts/get greet",
        "tools/list",
    }
    add = found["tools/call add"]
    assert add.kind == SpanKind.SERVER
    assert dict(add.attributes) == {
        "mcp.method.name": "tools/call",
        "gen_ai.tool.name": "add",
        "gen_ai.operation.name": "execute_tool",
        "jsonrpc.request.id": "7",
        "mcp.protocol.version": "2025-03-26",
        "client.address": "127.0.0.1",
    }
    assert add.status.status_code == StatusCode.UNSET
    # The span is current while the tool runs: the tool's spans are children.
    inside = found["inside add"]
    assert inside.parent.span_id == add.context.span_id
    failed = found["tools/call fails"]
    assert failed.attributes["error.type"] == "tool_error"
    assert failed.status.status_code == StatusCode.ERROR
    unknown = found["tools/call"]  # an unknown name stays out of the span name
    assert unknown.attributes["gen_ai.tool.name"] == "nope"
    assert unknown.attributes["error.type"] == "-32602"
    assert unknown.attributes["rpc.response.status_code"] == "-32602"
    read = found["resources/read notes://{id}"]
    assert read.attributes["mcp.resource.uri"] == "notes://4"
    assert read.attributes["mcp.protocol.version"] == "2026-07-28"
    assert found["prompts/get greet"].attributes["gen_ai.prompt.name"] == "greet"
    assert "gen_ai.operation.name" not in found["tools/list"].attributes


def test_the_parent_comes_from_meta_and_the_http_context_is_linked(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    client = make_app(tmp_path).test_client()
    message = call("add", {"a": 1, "b": 1})
    message["params"]["_meta"] = {"traceparent": META_PARENT, "tracestate": "k=v"}
    post(client, message, traceparent=HTTP_PARENT)
    span = by_name(spans)["tools/call add"]
    assert f"{span.context.trace_id:032x}" == META_TRACE
    assert f"{span.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert span.parent.is_remote
    assert span.context.trace_state.get("k") == "v"
    assert [f"{link.context.trace_id:032x}" for link in span.links] == [HTTP_TRACE]


def test_without_meta_the_http_headers_give_the_parent(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    client = make_app(tmp_path).test_client()
    post(client, call("add", {"a": 1, "b": 1}), traceparent=HTTP_PARENT)
    span = by_name(spans)["tools/call add"]
    assert f"{span.context.trace_id:032x}" == HTTP_TRACE
    assert not list(span.links)


@pytest.mark.parametrize(
    "bad", ["junk", "00-" + "0" * 32 + "-" + "0" * 16 + "-01", "00-zz-yy-01", 42]
)
def test_a_bad_traceparent_starts_a_new_trace(
    tmp_path: Path, spans: InMemorySpanExporter, bad: t.Any
) -> None:
    client = make_app(tmp_path).test_client()
    message = call("add", {"a": 1, "b": 1})
    message["params"]["_meta"] = {"traceparent": bad}
    assert post(client, message).status_code == 200
    span = by_name(spans)["tools/call add"]
    assert span.parent is None and span.context.is_valid


def test_refusals_end_the_span_as_errors(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    app = Flask("limited", instance_path=str(tmp_path))
    app.config.update(MCP_TRACING=True, MCP_STATELESS=True, MCP_RATE_LIMIT="1/minute")
    mcp = FlaskMCP(app)
    mcp.tool(name="echo")(lambda text: text)
    client = app.test_client()
    post(client, call("echo", {"text": "a"}))
    assert post(client, call("echo", {"text": "a"})).status_code == 429
    limited = [
        s
        for s in spans.get_finished_spans()
        if s.status.status_code == StatusCode.ERROR
    ]
    assert [s.attributes["error.type"] for s in limited] == ["429"]
    # The context was detached: nothing leaks into what runs next.
    assert not trace.get_current_span().get_span_context().is_valid


def test_upstream_calls_are_child_spans(spans: InMemorySpanExporter) -> None:
    """The providers announce each upstream call (see the proxy tests for
    the real flow); the span is a child of whatever is current."""
    from flask_mcp.auth.providers.client import calling
    from flask_mcp.auth.providers.provider import UpstreamError
    from flask_mcp.ops import tracing

    tracing._connect_upstream()
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("callback") as parent:
        with calling("google", "token endpoint", 5):
            pass
        with pytest.raises(UpstreamError):
            with calling("google", "userinfo endpoint", 5):
                raise UpstreamError("invalid_grant", "gone")
    found = by_name(spans)
    token = found["oauth upstream token endpoint"]
    assert token.kind == SpanKind.CLIENT
    assert token.parent.span_id == parent.get_span_context().span_id
    assert token.attributes["flask_mcp.provider"] == "google"
    userinfo = found["oauth upstream userinfo endpoint"]
    assert userinfo.attributes["error.type"] == "invalid_grant"
    assert userinfo.status.status_code == StatusCode.ERROR


def test_task_legs_get_consumer_spans(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    """What the tasks engineer emits: a leg with the originating context."""
    app = make_app(tmp_path)
    leg = signals.Operation(
        method="tools/call", name="add", target="add", meta={"traceparent": META_PARENT}
    )
    signals.task_leg_started.send(app, operation=leg)
    leg.finish("ok")
    signals.task_leg_finished.send(app, operation=leg)
    span = by_name(spans)["tools/call add"]
    assert span.kind == SpanKind.CONSUMER
    assert f"{span.context.trace_id:032x}" == META_TRACE


def test_asking_for_traces_without_opentelemetry_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name.startswith("opentelemetry") else real(name, *a),
    )
    app = Flask("no-otel", instance_path=str(tmp_path))
    app.config["MCP_TRACING"] = True
    with pytest.raises(ValueError, match=r"pip install 'flask-mcp\[otel\]'"):
        FlaskMCP(app)
