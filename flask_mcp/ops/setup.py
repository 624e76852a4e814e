"""What :func:`init_ops` sets up for one app: the telemetry receivers, the
metrics view, the rate limiter and the health checks its config asks for."""

from __future__ import annotations

import importlib.util
import logging
import typing as t
from dataclasses import dataclass
from dataclasses import field

from .ops_settings import OpsSettings

if t.TYPE_CHECKING:
    from flask import Flask

    from ..state import MCPState
    from .metrics import MetricsRecorder

log = logging.getLogger(__name__)

#: Key of the app-wide telemetry in ``app.extensions``.
EXTENSION_KEY = "mcp_ops"


@dataclass
class AppTelemetry:
    """What is set up once per app, however many servers it has."""

    settings: OpsSettings
    metrics: MetricsRecorder | None = None
    receivers: list[t.Any] = field(default_factory=list)


def init_ops(app: Flask, state: MCPState) -> None:
    """Set up what ``app.config`` asks for, for the server of ``state``.

    :raises ValueError: for a setting that cannot be used (an unwritable
        metrics folder, a rate limit that does not parse, tracing asked for
        without ``opentelemetry-api``...).
    """
    telemetry: AppTelemetry | None = app.extensions.get(EXTENSION_KEY)
    if telemetry is None:
        settings = OpsSettings.from_config(app.config, app.instance_path)
        telemetry = _set_up_app(app, settings, state)
        app.extensions[EXTENSION_KEY] = telemetry
    elif telemetry.metrics is not None:
        telemetry.metrics.add_store(state.store)
    _set_up_limits(app, telemetry.settings, state)


def _set_up_app(app: Flask, settings: OpsSettings, state: MCPState) -> AppTelemetry:
    from .probes import register_probes

    telemetry = AppTelemetry(settings)
    register_probes(app, settings.health_path, settings.ready_path)
    trace_id = None
    if _tracing_wanted(settings.tracing):
        from .tracing import Tracing
        from .tracing import current_trace_id

        telemetry.receivers.append(Tracing(app))
        trace_id = current_trace_id
    if settings.metrics:
        telemetry.metrics = _set_up_metrics(app, settings, state)
    if settings.audit:
        from .audit import AuditTrail

        telemetry.receivers.append(
            AuditTrail(app, arguments=settings.audit_arguments, trace_id=trace_id)
        )
    return telemetry


def _tracing_wanted(setting: bool) -> bool:
    if setting and importlib.util.find_spec("opentelemetry.trace") is None:
        raise ValueError(
            "MCP_TRACING needs opentelemetry-api: pip install 'flask-mcp[otel]'"
        )
    return setting


def _set_up_metrics(
    app: Flask, settings: OpsSettings, state: MCPState
) -> MetricsRecorder:
    if importlib.util.find_spec("prometheus_client") is None:
        raise ValueError(
            "MCP_METRICS needs prometheus_client: pip install 'flask-mcp[metrics]'"
        )
    from .metrics import MetricsRecorder
    from .metrics import use_folder
    from .metrics_view import register_metrics_view

    folder = use_folder(settings.metrics_dir)
    recorder = MetricsRecorder(app, folder, [state.store])
    name = state.mcp.blueprint_name
    register_metrics_view(
        app,
        settings,
        folder,
        lambda: _first_state(app, name).gate,
    )
    return recorder


def _first_state(app: Flask, name: str) -> MCPState:
    return t.cast("MCPState", app.extensions["mcp"][name])


def _set_up_limits(app: Flask, settings: OpsSettings, state: MCPState) -> None:
    """Rate limits for the server of ``state``, if any limit applies."""
    if state.endpoint.limiter is not None:
        return
    registry = state.mcp.registry
    wanted = settings.rate_limit or any(t.rate_limit for t in registry.tools.values())
    if not wanted:
        return
    from .rate_limits import RateLimits
    from .rate_limits import build_limiter
    from .rate_limits import parse_limits
    from .rate_limits import storage_uri

    default = parse_limits(settings.rate_limit, "MCP_RATE_LIMIT")
    uri = storage_uri(settings.rate_limit_storage_uri, state.settings.store_url)
    limiter = build_limiter(
        app,
        uri,
        settings.rate_limit_strategy,
        float(app.config.get("MCP_STORE_TIMEOUT", 2.0)),
    )
    if limiter is None:
        return
    if uri == "memory://":
        log.warning(
            "MCP rate limits are counted in each process's memory: with several"
            " workers or hosts a caller gets the limit once per process. Set"
            " MCP_STORE_URL or MCP_RATE_LIMIT_STORAGE_URI to a Redis."
        )
    state.endpoint.limiter = RateLimits(
        limiter, default, registry, state.mcp.blueprint_name
    )


def limit_tools(app: Flask, state: MCPState) -> None:
    """Called when a tool with a ``rate_limit`` is added after ``init_app``:
    set the limits up if they were not (no default and no such tool then).

    :raises RuntimeError: if the app already served requests (Flask-Limiter
        is set up with the app; do it before).
    """
    telemetry: AppTelemetry | None = app.extensions.get(EXTENSION_KEY)
    if telemetry is None or state.endpoint.limiter is not None:
        return
    try:
        _set_up_limits(app, telemetry.settings, state)
    except AssertionError:  # Flask: setup after the first request
        raise RuntimeError(
            "a tool with rate_limit= was added after the app served its first"
            " request; register it before, or set MCP_RATE_LIMIT"
        ) from None
