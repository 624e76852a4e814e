"""An example MCP server: the conformance fixtures plus a few everyday tools.

Run it with ``make serve``, or::

    gunicorn -w 2 -b 127.0.0.1:8000 "example_app:create_app()"

``EXAMPLE_OPS=1`` turns on metrics, the audit trail, a rate limit and traces
(see :mod:`example_app.production`).
"""

from __future__ import annotations

import json
import os

from flask import Flask

from flask_mcp import FlaskMCP

from . import auth
from . import everyday
from . import fixtures
from . import modern_fixtures
from . import production


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=os.environ.get("EXAMPLE_INSTANCE_PATH"))
    app.config.update(
        {k: _load_env_value(v) for k, v in os.environ.items() if k.startswith("MCP_")}
    )
    if config:
        app.config.update(config)
    if os.environ.get("EXAMPLE_OPS") == "1":
        production.enable(app)
    mcp = FlaskMCP(
        name="flask-mcp-example",
        version="0.1.0",
        instructions="Conformance fixtures and a few small everyday tools.",
        **auth.settings_from_env(),
    )
    fixtures.register(mcp)
    modern_fixtures.register(mcp)
    everyday.register(mcp)
    auth.register(mcp)
    mcp.init_app(app)
    return app


def _load_env_value(value: str) -> object:
    """``MCP_STORE_URL=redis://...`` stays a string; JSON lists/numbers are parsed."""
    try:
        return json.loads(value)
    except ValueError:
        return value
