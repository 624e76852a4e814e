"""The app the held-connection benchmarks serve: the example app of
``make serve``, plus a ``sleep`` tool to keep a worker busy for a known time
(the shutdown benchmark measures how long a stopping worker takes beyond its
longest running tool call)::

    gunicorn -c python:flask_mcp.gunicorn -w 2 "benchmarks.held_app:create_app()"
"""

from __future__ import annotations

import time

from flask import Flask

from example_app import create_app as example_app


def create_app() -> Flask:
    app = example_app()
    mcp = next(iter(app.extensions["mcp"].values())).mcp

    @mcp.tool()
    def sleep(seconds: float) -> str:
        """Sleep, then say so (a long-running tool call)."""
        time.sleep(min(max(seconds, 0.0), 60.0))
        return f"slept {seconds} s"

    return app
