"""``EXAMPLE_OPS=1``: the example runs as in production, observed.

* metrics at ``/metrics`` (open to anyone here: a demo on loopback; in
  production give the scraper ``MCP_METRICS_TOKEN`` instead);
* one audit line per tool call, read, prompt, sign-in, token event and
  refusal on stderr (the gunicorn log);
* a rate limit per caller of ``EXAMPLE_RATE_LIMIT`` (``20/second`` by
  default) on every request;
* spans per request when ``opentelemetry-api`` is installed (configure an
  SDK, e.g. ``opentelemetry-instrument gunicorn ...``, to export them).

``MCP_*`` variables set in the environment win over these.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import sys

from flask import Flask


def enable(app: Flask) -> None:
    """Turn the operations features on, before ``init_app``."""
    app.config.setdefault("MCP_METRICS", True)
    app.config.setdefault("MCP_METRICS_PUBLIC", True)
    app.config.setdefault("MCP_AUDIT", True)
    app.config.setdefault(
        "MCP_RATE_LIMIT", os.environ.get("EXAMPLE_RATE_LIMIT", "20/second")
    )
    if importlib.util.find_spec("opentelemetry.trace") is not None:
        app.config.setdefault("MCP_TRACING", True)
    audit = logging.getLogger("flask_mcp.audit")
    if not audit.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        audit.addHandler(handler)
        audit.setLevel(logging.INFO)
        audit.propagate = False
