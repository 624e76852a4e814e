"""The app of the gateway tests: a tool for every kind of notification.

Served by ``GunicornServer(app="gateway_app:create_app()", args=("--chdir",
this folder))``; ``MCP_*`` settings come from the environment.
"""

from __future__ import annotations

import os

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP


def create_app() -> Flask:
    app = Flask(__name__, instance_path=os.environ["GATEWAY_APP_INSTANCE"])
    app.config.update(
        {key: value for key, value in os.environ.items() if key.startswith("MCP_")}
    )
    mcp = FlaskMCP(app, name="gateway")

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
    def pid() -> int:
        """The worker serving the call."""
        return os.getpid()

    return app
