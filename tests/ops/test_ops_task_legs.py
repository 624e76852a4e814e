"""Task legs run by the thread executor are measured and traced: the
duration histogram by outcome, and a ``CONSUMER`` span per leg (the real
OpenTelemetry SDK, an in-memory exporter)."""

from __future__ import annotations

import time
import typing as t
from pathlib import Path

import pytest
from flask import Flask
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from flask_mcp import FlaskMCP
from flask_mcp import ToolError
from flask_mcp import signals
from flask_mcp.ops import tracing
from flask_mcp.tasks.observer import SignalObserver
from support.task_records import task_record

from .helpers import scrape
from .helpers import value

LEGS = "mcp_server_task_leg_duration_seconds_count"

_exporter = InMemorySpanExporter()
_provider = TracerProvider()
_provider.add_span_processor(SimpleSpanProcessor(_exporter))


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> t.Iterator[InMemorySpanExporter]:
    """The spans flask_mcp finishes during the test. Its own tracer is
    replaced: the global provider is test_ops_tracing.py's to set."""
    monkeypatch.setattr(tracing, "_tracer", _provider.get_tracer("flask_mcp"))
    _exporter.clear()
    yield _exporter
    _exporter.clear()


def make_app(tmp_path: Path, metrics_dir: Path) -> tuple[Flask, FlaskMCP]:
    app = Flask("task-legs", instance_path=str(tmp_path / "instance"))
    app.config.update(
        MCP_METRICS=True,
        MCP_METRICS_DIR=str(metrics_dir),
        MCP_METRICS_PUBLIC=True,
        MCP_TRACING=True,
        MCP_TASKS_POLL_INTERVAL_MS=50,
    )
    mcp = FlaskMCP(app, name="legs")

    @mcp.tool(task="optional")
    def double(x: int) -> int:
        return x * 2

    @mcp.tool(task="optional")
    def refuses() -> str:
        raise ToolError("no")

    return app, mcp


def test_a_task_leg_is_measured_and_traced(
    tmp_path: Path, metrics_dir: Path, spans: InMemorySpanExporter
) -> None:
    app, mcp = make_app(tmp_path, metrics_dir)
    web = app.test_client()
    before = scrape(web)
    with mcp.test_client(app, protocol_version="2026-07-28") as c:
        for name, arguments in [("double", {"x": 21}), ("refuses", {})]:
            task = c.call_tool_as_task(name, arguments)
            assert c.wait_for_task(task["taskId"])["status"] == "completed"

    def legs(**labels: str) -> float:
        return value(scrape(web), LEGS, method="tools/call", **labels) - value(
            before, LEGS, method="tools/call", **labels
        )

    deadline = time.monotonic() + 5  # the leg ends just after its record does
    while len(_consumers(spans)) < 2 or legs() < 2:
        assert time.monotonic() < deadline, "no task-leg telemetry"
        time.sleep(0.02)
    assert legs(name="double", outcome="ok", error_type="") == 1
    assert legs(name="refuses", outcome="tool_error", error_type="tool_error") == 1
    found = _consumers(spans)
    assert found["tools/call double"].attributes["gen_ai.tool.name"] == "double"
    assert "error.type" not in found["tools/call double"].attributes
    assert found["tools/call refuses"].attributes["error.type"] == "tool_error"


def _consumers(exporter: InMemorySpanExporter) -> dict[str, t.Any]:
    return {
        span.name: span
        for span in exporter.get_finished_spans()
        if span.kind == SpanKind.CONSUMER
    }


def test_nothing_is_built_while_nobody_listens_to_the_app(tmp_path: Path) -> None:
    app, other = Flask("quiet"), Flask("watched")
    record = task_record(tool="double")
    seen: list[signals.Operation] = []

    def receive(sender: t.Any, operation: signals.Operation) -> None:
        seen.append(operation)

    with signals.task_leg_finished.connected_to(receive, sender=other):
        with SignalObserver(app).leg(record) as quiet:
            assert quiet is None
        with SignalObserver(other).leg(record) as watched:
            assert watched is not None
            watched.outcome = "cancelled"
    assert [(o.name, o.outcome, o.sender) for o in seen] == [
        ("double", "cancelled", other)
    ]
