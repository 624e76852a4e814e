"""A server for the task tests, served by gunicorn and run by Celery workers.

The example app plus tools that show where and as whom a leg runs, and one
whose leg lasts until the test says so (a file appears) or the task is
cancelled. Used as ``"task_app:create_app()"`` with ``--chdir`` (gunicorn)
or ``--app`` (``flask mcp worker``) pointing at this folder; ``MCP_*``
settings and ``EXAMPLE_*`` variables come from the environment, as for the
example app.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from flask import Flask
from flask import current_app
from flask import g

from example_app import create_app as create_example_app
from flask_mcp import Context


def create_app() -> Flask:
    app = create_example_app()
    mcp = app.extensions["mcp"]["mcp"].mcp

    @mcp.tool(task="optional")
    def where_am_i(ctx: Context) -> dict:
        """The process running this leg, its app, and the caller it runs as."""
        return {
            "pid": os.getpid(),
            "app": current_app.name,
            "caller": ctx.auth,
            "g": g.mcp_auth,
            "task": ctx.task_id,
        }

    @mcp.tool(task="optional")
    def hold_until(ctx: Context, path: str, limit: float = 60) -> dict:
        """Writes this process's pid to ``path + ".pid"``, then works until
        ``path`` exists (or ``limit`` seconds pass, or the task is cancelled),
        reporting progress."""
        Path(path + ".pid").write_text(str(os.getpid()))
        deadline = time.monotonic() + limit
        ticks = 0
        while not Path(path).exists() and time.monotonic() < deadline:
            if ctx.cancelled:
                Path(path + ".cancelled").write_text(str(os.getpid()))
                return {"pid": os.getpid(), "cancelled": True}
            ticks += 1
            ctx.report_progress(ticks, message=f"tick {ticks}")
            time.sleep(0.05)
        return {"pid": os.getpid(), "cancelled": False, "ticks": ticks}

    # Registered after init_app: the registry is read per request.
    return app
