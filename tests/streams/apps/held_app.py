"""A small server for the held-stream tests.

Served by ``GunicornServer(app="held_app:create_app()", args=("--chdir",
this folder, ...))``; ``MCP_*`` settings come from the environment, and
``HELD_API_KEYS`` (``key=principal,...``) turns on API-key authentication.
"""

from __future__ import annotations

import os
import time

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import api_key_auth


def create_app() -> Flask:
    app = Flask(__name__, instance_path=os.environ["HELD_APP_INSTANCE"])
    app.config.update(
        {key: value for key, value in os.environ.items() if key.startswith("MCP_")}
    )
    keys = os.environ.get("HELD_API_KEYS")
    authenticate = None
    if keys:
        pairs = dict(item.split("=", 1) for item in keys.split(","))
        authenticate = api_key_auth({k: {"principal": v} for k, v in pairs.items()})
    mcp = FlaskMCP(app, name="held", authenticate=authenticate)

    @mcp.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @mcp.tool
    def sleep(seconds: float) -> str:
        """Keep a thread busy for ``seconds``."""
        time.sleep(seconds)
        return "slept"

    @mcp.tool
    def steps(count: int, ctx: Context) -> str:
        """Report ``count`` steps of progress (a streamed call)."""
        for step in range(count):
            ctx.report_progress(step + 1, count)
        return f"{count} steps"

    @mcp.tool
    def change_tools() -> str:
        """Tell every listener that the tool list changed."""
        mcp.notify_list_changed("tools")
        return "changed"

    @mcp.tool
    def touch(uri: str) -> str:
        """Tell the subscribers of ``uri`` that it changed."""
        mcp.notify_resource_updated(uri)
        return "touched"

    @mcp.resource("notes://{name}")
    def note(name: str) -> str:
        """A note."""
        return f"note {name}"

    return app
