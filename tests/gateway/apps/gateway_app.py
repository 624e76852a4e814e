"""The app of the gateway tests: a tool for every kind of notification.

Served by ``GunicornServer(app="gateway_app:create_app()", args=("--chdir",
this folder))``; ``MCP_*`` settings come from the environment, and
``GATEWAY_API_KEYS`` (``key=principal,...``) turns on API-key authentication.
"""

from __future__ import annotations

import os
import time

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import api_key_auth


def create_app() -> Flask:
    app = Flask(__name__, instance_path=os.environ["GATEWAY_APP_INSTANCE"])
    app.config.update(
        {key: value for key, value in os.environ.items() if key.startswith("MCP_")}
    )
    keys = os.environ.get("GATEWAY_API_KEYS")
    authenticate = None
    if keys:
        pairs = dict(item.split("=", 1) for item in keys.split(","))
        authenticate = api_key_auth({k: {"principal": v} for k, v in pairs.items()})
    mcp = FlaskMCP(app, name="gateway", authenticate=authenticate)

    @mcp.resource("test://watched", name="watched", mime_type="text/plain")
    def watched() -> str:
        return "watched"

    @mcp.resource("test://other", name="other", mime_type="text/plain")
    def other() -> str:
        return "other"

    @mcp.tool
    def announce(kind: str = "tools") -> str:
        """Tell every listener that the ``kind`` list changed."""
        mcp.notify_list_changed(kind)
        return f"{kind} changed"

    @mcp.tool
    def touch(uri: str) -> str:
        """Tell the subscribers of ``uri`` that it changed."""
        mcp.notify_resource_updated(uri)
        return f"{uri} changed"

    @mcp.tool
    def finish(elicitation_id: str, ctx: Context) -> str:
        """Tell the caller's 2025 session that an elicitation is complete."""
        assert ctx.session_id is not None
        mcp.notify_elicitation_complete(elicitation_id, ctx.session_id)
        return "told"

    @mcp.tool
    def steps(count: int, pause: float, ctx: Context) -> str:
        """Report ``count`` steps of progress, ``pause`` seconds apart (a
        streamed call)."""
        for step in range(count):
            time.sleep(pause)
            ctx.report_progress(step + 1, count, f"step {step + 1}")
        return f"{count} steps"

    @mcp.tool
    def pid() -> int:
        """The worker serving the call."""
        return os.getpid()

    return app
