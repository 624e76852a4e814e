"""A small server for fault tests: a tool that streams for as long as asked.

Served by ``GunicornServer(app="fault_app:create_app()", args=("--chdir",
this folder))``; ``MCP_*`` settings come from the environment.
"""

from __future__ import annotations

import os
import time

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP


def create_app() -> Flask:
    app = Flask(__name__, instance_path=os.environ["FAULT_APP_INSTANCE"])
    app.config.update(
        {key: value for key, value in os.environ.items() if key.startswith("MCP_")}
    )
    mcp = FlaskMCP(app, name="faults")

    @mcp.tool
    def slow(seconds: float, ctx: Context) -> str:
        """Report progress (naming this worker's pid) until ``seconds`` pass."""
        deadline = time.monotonic() + seconds
        step = 0
        while time.monotonic() < deadline:
            step += 1
            ctx.report_progress(step, message=f"pid {os.getpid()}")
            time.sleep(0.2)
        return f"done after {step} steps"

    @mcp.tool
    def ask(ctx: Context) -> str:
        """Ask the user a question (nobody answers in the tests)."""
        answer = ctx.elicit("Name?", {"type": "object", "properties": {}})
        return str(answer)

    @mcp.tool
    def quick() -> str:
        """Answer at once."""
        return "quick"

    return app
