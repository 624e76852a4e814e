"""The app the operations tests serve with gunicorn:
``gunicorn "tests.ops.ops_app:create_app()"``.

Configured from the environment: every ``MCP_*`` variable (JSON values
parsed, as the example app does) and ``OPS_TEST_INSTANCE`` (the instance
folder). Callers authenticate with ``X-Key: <name>`` (their principal is
that name); ``X-Key`` absent is refused with 401. Every response names its
worker (``X-Worker-Pid``). With ``OPS_TEST_AUDIT_FILE``, audit lines go to
that file through an :class:`~flask_mcp.ops.AuditFileHandler` writing every
``OPS_TEST_AUDIT_INTERVAL`` seconds.

Tools: ``echo(text)``; ``fails()`` (a tool error); ``work(ms)`` sleeps that
long (an I/O-bound call: a database, an API); ``limited()`` has its own
rate limit of ``$OPS_TEST_TOOL_LIMIT`` (default ``5/minute``). A resource
``notes://{id}`` and a prompt ``greet(name)``.
"""

from __future__ import annotations

import json
import logging
import os
import time
import typing as t

from flask import Flask
from flask import Response

from flask_mcp import FlaskMCP
from flask_mcp import ToolError
from flask_mcp.ops import AuditFileHandler


def authenticate(request: t.Any) -> t.Any:
    key = request.headers.get("X-Key")
    return {"sub": key} if key else None


def create_app() -> Flask:
    if os.environ.get("OPS_TEST_AUDIT_FILE"):
        _audit_to_file(
            os.environ["OPS_TEST_AUDIT_FILE"],
            float(os.environ.get("OPS_TEST_AUDIT_INTERVAL", "0.2")),
        )
    app = Flask(__name__, instance_path=os.environ["OPS_TEST_INSTANCE"])
    app.config.update(
        {k: _value(v) for k, v in os.environ.items() if k.startswith("MCP_")}
    )
    mcp = FlaskMCP(name="ops-test", authenticate=authenticate)

    @mcp.tool
    def echo(text: str) -> str:
        return text

    @mcp.tool
    def fails() -> str:
        raise ToolError("it did not work")

    @mcp.tool
    def work(ms: int) -> str:
        time.sleep(ms / 1000)
        return "done"

    @mcp.tool(rate_limit=os.environ.get("OPS_TEST_TOOL_LIMIT", "5/minute"))
    def limited() -> str:
        return "ok"

    @mcp.resource("notes://{id}")
    def note(id: str) -> str:
        return f"note {id}"

    @mcp.prompt
    def greet(name: str) -> str:
        return f"Hello {name}"

    mcp.init_app(app)

    @app.get("/")
    def index() -> str:
        return "ok"

    @app.after_request
    def worker(response: Response) -> Response:
        response.headers["X-Worker-Pid"] = str(os.getpid())
        return response

    return app


def _value(raw: str) -> t.Any:
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _audit_to_file(path: str, interval: float) -> None:
    audit = logging.getLogger("flask_mcp.audit")
    audit.addHandler(AuditFileHandler(path, interval=interval))
    audit.setLevel(logging.INFO)
    audit.propagate = False
