"""The example app plus two tools that fail with an unexpected exception, and
a 1 KiB body limit (``MCP_MAX_BODY``): the example app itself has no tool that
raises anything but :class:`~flask_mcp.ToolError`.

Used in-process by ``test_http_errors.py`` and under gunicorn by
``test_http_workers.py``.
"""

from __future__ import annotations

import os

from flask import Flask

from example_app import everyday
from example_app import fixtures
from flask_mcp import Context
from flask_mcp import FlaskMCP

MAX_BODY = 1024
SECRET = "secret detail 4711"


def create_app() -> Flask:
    app = Flask("example_app", instance_path=os.environ["EXAMPLE_INSTANCE_PATH"])
    app.config["MCP_MAX_BODY"] = MAX_BODY
    mcp = FlaskMCP(name="flask-mcp-example", version="0.1.0")
    fixtures.register(mcp)
    everyday.register(mcp)

    @mcp.tool()
    def explode() -> str:
        """Fails with an exception nobody planned for."""
        raise RuntimeError(SECRET)

    @mcp.tool()
    def explode_while_streaming(ctx: Context) -> str:
        """Sends a log message (so the answer is a stream), then fails."""
        ctx.log("info", "about to fail")
        raise RuntimeError(SECRET)

    mcp.init_app(app)
    return app
