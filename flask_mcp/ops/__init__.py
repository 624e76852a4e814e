"""Running a server in production: traces, metrics, an audit trail, rate
limits and health checks, each turned on by its ``MCP_*`` setting.

The telemetry features are receivers of :mod:`flask_mcp.signals`; the rate
limits are the endpoint's message limiter. :func:`init_ops` sets up what the
app's config asks for when a :class:`~flask_mcp.FlaskMCP` is initialised;
optional packages (``prometheus_client``, ``opentelemetry-api``,
Flask-Limiter) are imported only by the features that use them.
"""

from __future__ import annotations

from .audit_file import AuditFileHandler
from .ops_settings import OpsSettings
from .setup import init_ops
from .setup import limit_tools

__all__ = ["AuditFileHandler", "OpsSettings", "init_ops", "limit_tools"]
