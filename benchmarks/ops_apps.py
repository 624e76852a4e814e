"""The app :mod:`benchmarks.bench_ops` loads with tracing, metrics and the
audit trail on, and the telemetry around it.

* Traces: the OpenTelemetry SDK records every span (``AlwaysOn``) and a
  ``BatchSpanProcessor`` hands them to an exporter that drops them: the
  cost measured is making and finishing spans in the worker, not shipping
  them, which is the collector's business and varies by deployment.
* Metrics: ``prometheus_client`` multiprocess files in ``$BENCH_METRICS_DIR``.
* Audit: one JSON line per call to ``$BENCH_AUDIT_LOG`` through
  :class:`flask_mcp.ops.AuditFileHandler`, as the operations guide
  recommends for a trail on disk (``BENCH_AUDIT_HANDLER=file``: a logging
  ``FileHandler``, which writes each line at once).

Imported only by the workers of the ``ops`` variant.
"""

from __future__ import annotations

import logging
import os
import typing as t

from flask import Flask
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export import SpanExporter
from opentelemetry.sdk.trace.export import SpanExportResult

from benchmarks.apps import PATH
from benchmarks.apps import _mcp_app
from flask_mcp.ops import AuditFileHandler


class DroppingExporter(SpanExporter):
    """Accepts every batch and keeps nothing; counts what it got."""

    exported = 0

    def export(self, spans: t.Sequence[t.Any]) -> SpanExportResult:
        DroppingExporter.exported += len(spans)
        return SpanExportResult.SUCCESS


#: The settings of each feature (``MCP_METRICS_DIR`` from the environment).
FEATURES: dict[str, dict[str, t.Any]] = {
    "tracing": {"MCP_TRACING": True},
    "metrics": {"MCP_METRICS": True, "MCP_METRICS_PUBLIC": True},
    "audit": {"MCP_AUDIT": True},
    # Counted in memory (one process): what checking costs, not a store.
    "limits": {"MCP_RATE_LIMIT": "1000000/second"},
}


def set_up_telemetry() -> None:
    """The SDK recording every span, and the audit trail to a file."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(BatchSpanProcessor(DroppingExporter()))
        trace.set_tracer_provider(provider)
    audit = logging.getLogger("flask_mcp.audit")
    if not audit.handlers:
        path = os.environ["BENCH_AUDIT_LOG"]
        handler: logging.Handler
        if os.environ.get("BENCH_AUDIT_HANDLER") == "file":
            handler = logging.FileHandler(path)
            handler.setFormatter(logging.Formatter("%(message)s"))
        else:
            handler = AuditFileHandler(path)
        audit.addHandler(handler)
        audit.setLevel(logging.INFO)
        audit.propagate = False


def app_with(*features: str) -> Flask:
    """:func:`benchmarks.apps.stateless_app` with these ``FEATURES`` on."""
    set_up_telemetry()
    config: dict[str, t.Any] = {"MCP_PATH": PATH, "MCP_STATELESS": True}
    for feature in features:
        config.update(FEATURES[feature])
    if "metrics" in features:
        config["MCP_METRICS_DIR"] = os.environ["BENCH_METRICS_DIR"]
    return _mcp_app("bench_stateless", config)


def ops_app() -> Flask:
    """:func:`benchmarks.apps.stateless_app` with MCP_TRACING, MCP_METRICS and
    MCP_AUDIT on."""
    return app_with("tracing", "metrics", "audit")
