"""The three apps :mod:`benchmarks.bench_tools_call` serves with gunicorn.

* :func:`bare_app`: a plain Flask route doing the same JSON-RPC work by hand,
  without MCP (the baseline);
* :func:`stateless_app`: :class:`~flask_mcp.FlaskMCP` with ``MCP_STATELESS``;
* :func:`session_app`: :class:`~flask_mcp.FlaskMCP` with sessions in the
  default file store.

Each is a factory for ``gunicorn "benchmarks.apps:bare_app()"``. The instance
folder (where the file store lives) is ``$BENCH_INSTANCE_PATH``, so a run
never writes into the repository.
"""

from __future__ import annotations

import json
import os
import typing as t

from flask import Flask
from flask import Response
from flask import request

PATH = "/mcp"


def echo(text: str) -> str:
    """Return the text unchanged."""
    return text


def _flask(name: str) -> Flask:
    return Flask(name, instance_path=os.environ.get("BENCH_INSTANCE_PATH"))


def _error(request_id: t.Any, code: int, message: str, status: int = 200) -> Response:
    body = {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {"code": code, "message": message},
    }
    return Response(
        json.dumps(body, separators=(",", ":")), status, mimetype="application/json"
    )


def bare_app() -> Flask:
    """``tools/call`` of :func:`echo` as a plain Flask view: the same work minus MCP.

    It reads and parses the same body, checks the JSON-RPC envelope and the
    argument type, calls the same function and answers the same bytes.
    """
    app = _flask("bench_bare")

    @app.post(PATH)
    def tools_call() -> Response:
        try:
            message = json.loads(request.get_data())
        except ValueError:
            return _error(None, -32700, "Parse error", 400)
        if not isinstance(message, dict) or message.get("jsonrpc") != "2.0":
            return _error(None, -32600, "Invalid Request", 400)
        request_id = message.get("id")
        params = message.get("params")
        if message.get("method") != "tools/call" or not isinstance(params, dict):
            return _error(request_id, -32601, "Method not found")
        arguments = params.get("arguments")
        if params.get("name") != "echo" or not isinstance(arguments, dict):
            return _error(request_id, -32602, "Unknown tool")
        text = arguments.get("text")
        if not isinstance(text, str) or len(arguments) != 1:
            return _error(request_id, -32602, "Invalid arguments")
        result = {"content": [{"type": "text", "text": echo(text)}]}
        body = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return Response(
            json.dumps(body, separators=(",", ":")), mimetype="application/json"
        )

    return app


def _mcp_app(name: str, config: dict[str, t.Any]) -> Flask:
    # Imported here so that the bare app's workers do not load flask_mcp: their
    # memory is the baseline the MCP workers' memory is compared with.
    from flask_mcp import FlaskMCP

    app = _flask(name)
    app.config.update(config)
    mcp = FlaskMCP(name=name, version="0.0.0")
    mcp.tool()(echo)
    mcp.init_app(app)
    return app


def stateless_app() -> Flask:
    """FlaskMCP without sessions: every POST stands alone."""
    return _mcp_app("bench_stateless", {"MCP_PATH": PATH, "MCP_STATELESS": True})


def session_app() -> Flask:
    """FlaskMCP with sessions in the default file store (the instance folder)."""
    return _mcp_app("bench_session", {"MCP_PATH": PATH})
