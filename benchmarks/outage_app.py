"""The app of :mod:`benchmarks.bench_store_outage`: sessions in Redis.

Served as ``gunicorn --chdir benchmarks "outage_app:create_app()"`` (from
this folder, so the benchmark can run it with another interpreter, that of
an older checkout, to compare). ``$BENCH_STORE_URL`` is the Redis,
``$BENCH_INSTANCE_PATH`` the instance folder; ``MCP_STORE_TIMEOUT`` keeps
its default (2 s).

Its one tool, ``echo``, answers a 2026-07-28 ``tools/call`` without the
store; the same call on a 2025 session reads the session from the store.
"""

from __future__ import annotations

import os

from flask import Flask

from flask_mcp import FlaskMCP


def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


def create_app() -> Flask:
    app = Flask("bench_outage", instance_path=os.environ["BENCH_INSTANCE_PATH"])
    app.config["MCP_STORE_URL"] = os.environ["BENCH_STORE_URL"]
    mcp = FlaskMCP(name="bench_outage", version="0.0.0")
    mcp.tool()(echo)
    mcp.init_app(app)
    return app
