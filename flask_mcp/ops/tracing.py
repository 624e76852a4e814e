"""OpenTelemetry spans: one per MCP request and per task leg, and a child
span per call of the OAuth proxy to its upstream provider.

Spans are named and attributed by the semantic conventions for MCP
(``gen-ai/mcp.md``): name ``{mcp.method.name} {target}`` (the tool or
prompt name, or the resource's URI template, when the server has it), kind
``SERVER``, ``mcp.method.name``, ``gen_ai.tool.name``/``gen_ai.prompt.name``,
``mcp.resource.uri``, ``jsonrpc.request.id``, ``mcp.protocol.version``,
``mcp.session.id``, ``gen_ai.operation.name`` (``execute_tool``),
``error.type`` and ``rpc.response.status_code``; status ``ERROR`` when
``error.type`` is set.

The parent is the context the client put in ``params._meta``
(``traceparent``, ``tracestate``, ``baggage``), as the conventions ask; else
the request's HTTP headers; else whatever is current (a Flask
instrumentation's span). When ``_meta`` gives the parent, the HTTP context
becomes a link. The span is current while the handler runs, so spans a tool
starts, and upstream calls, are its children.

This module is imported only when tracing is on: an app without
``opentelemetry-api`` imports nothing of it.
"""

from __future__ import annotations

import logging
import typing as t

from opentelemetry import context
from opentelemetry import propagate
from opentelemetry import trace
from opentelemetry.trace import Link
from opentelemetry.trace import SpanKind
from opentelemetry.trace import Status
from opentelemetry.trace import StatusCode

from .. import signals
from .receivers import connect
from .receivers import guarded

if t.TYPE_CHECKING:
    from flask import Flask


log = logging.getLogger(__name__)

#: Key of the span in :attr:`Operation.scratch <flask_mcp.signals.Operation.scratch>`.
SCRATCH = "otel"
_PROPAGATED = ("traceparent", "tracestate", "baggage")
_NAME_ATTRIBUTES = {
    "tools/call": "gen_ai.tool.name",
    "prompts/get": "gen_ai.prompt.name",
}
_URI_METHODS = frozenset(
    {"resources/read", "resources/subscribe", "resources/unsubscribe"}
)

_tracer = trace.get_tracer("flask_mcp")
_upstream_connected = False


class Tracing:
    """Spans for what one app's servers announce (see :mod:`flask_mcp.signals`)."""

    def __init__(self, app: Flask) -> None:
        connect(
            app,
            {
                signals.operation_started: self.started(SpanKind.SERVER),
                signals.operation_finished: self.finished,
                signals.task_leg_started: self.started(SpanKind.CONSUMER),
                signals.task_leg_finished: self.finished,
            },
        )
        _connect_upstream()

    def started(self, kind: SpanKind) -> t.Callable[..., None]:
        @guarded
        def start(sender: t.Any, operation: signals.Operation) -> None:
            parent, links = _parent(operation)
            name = f"{operation.method} {operation.target}".rstrip()
            span = _tracer.start_span(name, parent, kind, _attributes(operation), links)
            token = context.attach(trace.set_span_in_context(span, parent))
            operation.scratch[SCRATCH] = (span, token)
            span_context = span.get_span_context()
            if span_context.is_valid:
                operation.scratch["trace_id"] = trace.format_trace_id(
                    span_context.trace_id
                )

        return start

    @guarded
    def finished(self, sender: t.Any, operation: signals.Operation) -> None:
        held = operation.scratch.pop(SCRATCH, None)
        if held is None:
            return
        span, token = held
        try:
            error_type = _error_type(operation)
            if operation.error_code is not None:
                span.set_attribute(
                    "rpc.response.status_code", str(operation.error_code)
                )
            if error_type is not None:
                span.set_attribute("error.type", error_type)
                span.set_status(Status(StatusCode.ERROR, operation.error_message))
            span.end()
        finally:
            context.detach(token)


def current_trace_id() -> str | None:
    """The id of the current trace (for audit lines), if a span is recording."""
    span_context = trace.get_current_span().get_span_context()
    return (
        trace.format_trace_id(span_context.trace_id) if span_context.is_valid else None
    )


def _parent(operation: signals.Operation) -> tuple[context.Context, list[Link]]:
    """The parent context and links of an operation's span."""
    meta, header = operation.meta, operation.header
    from_meta = None
    if "traceparent" in meta:
        from_meta = _extract({k: meta.get(k) for k in _PROPAGATED})
    from_http = None
    if header is not None and header("traceparent") is not None:
        from_http = _extract({k: header(k) for k in _PROPAGATED})
    if from_meta is not None:
        links = []
        if from_http is not None:
            links.append(Link(trace.get_current_span(from_http).get_span_context()))
        return from_meta, links
    return (from_http if from_http is not None else context.get_current()), []


def _extract(carrier: dict[str, t.Any]) -> context.Context | None:
    """The context in ``carrier``; ``None`` if it holds no valid span context."""
    headers = {k: v for k, v in carrier.items() if isinstance(v, str)}
    if "traceparent" not in headers:
        return None
    extracted = propagate.extract(headers)
    valid = trace.get_current_span(extracted).get_span_context().is_valid
    return extracted if valid else None


def _attributes(operation: signals.Operation) -> dict[str, t.Any]:
    # network.transport and network.protocol.name (tcp, http) would say the
    # same on every span of this server: left out, as each attribute costs.
    attributes: dict[str, t.Any] = {"mcp.method.name": operation.method}
    name_attribute = _NAME_ATTRIBUTES.get(operation.method)
    if name_attribute and operation.name is not None:
        attributes[name_attribute] = operation.name
    if operation.method in _URI_METHODS and operation.name is not None:
        attributes["mcp.resource.uri"] = operation.name
    if operation.method == "tools/call":
        attributes["gen_ai.operation.name"] = "execute_tool"
    if operation.request_id is not None:
        attributes["jsonrpc.request.id"] = str(operation.request_id)
    if operation.protocol_version:
        attributes["mcp.protocol.version"] = operation.protocol_version
    if operation.session_id:
        attributes["mcp.session.id"] = operation.session_id
    if operation.client_address:
        attributes["client.address"] = operation.client_address
    return attributes


def _error_type(operation: signals.Operation) -> str | None:
    """``error.type``: ``tool_error`` for a tool's own error, else the code."""
    if operation.outcome == "tool_error":
        return "tool_error"
    if operation.outcome == "ok":
        return None
    if operation.error_code is not None:
        return str(operation.error_code)
    return "_OTHER"


def _connect_upstream() -> None:
    """Upstream calls become child spans, once per process for every app
    (they are announced by provider, not by app)."""
    global _upstream_connected
    if _upstream_connected:
        return
    _upstream_connected = True
    signals.upstream_call_started.connect(_upstream_started, weak=False)
    signals.upstream_call_finished.connect(_upstream_finished, weak=False)


@guarded
def _upstream_started(sender: t.Any, call: signals.UpstreamCall) -> None:
    span = _tracer.start_span(
        f"oauth upstream {call.what}",
        kind=SpanKind.CLIENT,
        attributes={
            "flask_mcp.provider": call.provider,
            "flask_mcp.upstream": call.what,
        },
    )
    call.scratch[SCRATCH] = (span, context.attach(trace.set_span_in_context(span)))


@guarded
def _upstream_finished(sender: t.Any, call: signals.UpstreamCall) -> None:
    held = call.scratch.pop(SCRATCH, None)
    if held is None:
        return
    span, token = held
    try:
        if call.error is not None:
            span.set_attribute("error.type", call.error)
            span.set_status(Status(StatusCode.ERROR, call.error))
        span.end()
    finally:
        context.detach(token)
