"""The app :mod:`benchmarks.bench_ops` loads with tracing, metrics and the
audit trail on, and the telemetry around it.

* Traces: the OpenTelemetry SDK records every span (``AlwaysOn``) and a
  ``BatchSpanProcessor`` hands them to an exporter that drops them: the
  cost measured is making and finishing spans in the worker, not shipping
  them, which is the collector's business and varies by deployment. The
  ``ops-sampled`` variant (:func:`ops_sampled_app`) samples instead, as a
  production setting may: ``ParentBased(TraceIdRatioBased(SAMPLED_RATIO))``
  (the spans not sampled are still made, as non-recording spans, and their
  trace context still propagates).
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
from opentelemetry.sdk.trace.sampling import ALWAYS_ON
from opentelemetry.sdk.trace.sampling import ParentBased
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

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


#: The share of traces :func:`ops_sampled_app` records.
SAMPLED_RATIO = 0.1


def set_up_telemetry(ratio: float | None = None, audit_log: str | None = None) -> None:
    """The SDK recording every span (or a ``ratio`` of the traces), and the
    audit trail to a file (``$BENCH_AUDIT_LOG`` unless given)."""
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        sampler = (
            ParentBased(TraceIdRatioBased(ratio)) if ratio is not None else ALWAYS_ON
        )
        provider = TracerProvider(sampler=sampler)
        provider.add_span_processor(BatchSpanProcessor(DroppingExporter()))
        trace.set_tracer_provider(provider)
    audit = logging.getLogger("flask_mcp.audit")
    if not audit.handlers:
        path = audit_log or os.environ["BENCH_AUDIT_LOG"]
        handler: logging.Handler
        if os.environ.get("BENCH_AUDIT_HANDLER") == "file":
            handler = logging.FileHandler(path)
            handler.setFormatter(logging.Formatter("%(message)s"))
        else:
            handler = AuditFileHandler(path)
        audit.addHandler(handler)
        audit.setLevel(logging.INFO)
        audit.propagate = False


def app_with(*features: str, metrics_dir: str | None = None) -> Flask:
    """:func:`benchmarks.apps.stateless_app` with these ``FEATURES`` on
    (metrics in ``$BENCH_METRICS_DIR`` unless given)."""
    set_up_telemetry()
    config: dict[str, t.Any] = {"MCP_PATH": PATH, "MCP_STATELESS": True}
    for feature in features:
        config.update(FEATURES[feature])
    if "metrics" in features:
        config["MCP_METRICS_DIR"] = metrics_dir or os.environ["BENCH_METRICS_DIR"]
    return _mcp_app("bench_stateless", config)


def ops_app() -> Flask:
    """:func:`benchmarks.apps.stateless_app` with MCP_TRACING, MCP_METRICS and
    MCP_AUDIT on."""
    return app_with("tracing", "metrics", "audit")


def ops_sampled_app() -> Flask:
    """:func:`ops_app` with a tenth of the traces recorded; its metrics and
    audit lines apart from :func:`ops_app`'s (:func:`sampled_paths`)."""
    metrics_dir, audit_log = sampled_paths()
    os.makedirs(metrics_dir, exist_ok=True)
    set_up_telemetry(SAMPLED_RATIO, audit_log)
    return app_with("tracing", "metrics", "audit", metrics_dir=metrics_dir)


def sampled_paths() -> tuple[str, str]:
    """The metrics folder and audit file of :func:`ops_sampled_app`."""
    return (
        os.path.join(os.environ["BENCH_METRICS_DIR"], "sampled"),
        os.environ["BENCH_AUDIT_LOG"] + ".sampled",
    )
