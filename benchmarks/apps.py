"""The apps :mod:`benchmarks.bench_tools_call` and :mod:`benchmarks.bench_auth`
serve with gunicorn.

* :func:`bare_app`: a plain Flask route doing the same JSON-RPC work by hand,
  without MCP (the baseline);
* :func:`stateless_app`: :class:`~flask_mcp.FlaskMCP` with ``MCP_STATELESS``;
* :func:`session_app`: :class:`~flask_mcp.FlaskMCP` with sessions in the
  default file store;
* :func:`stateless_jwt_app`, :func:`session_jwt_app`: the same two behind
  ``bearer_auth(JWTVerifier(...))``, configured by ``$BENCH_JWT_ISSUER``,
  ``$BENCH_JWT_AUDIENCE`` and ``$BENCH_JWKS_URL``;
* :func:`bare_add_app`, :func:`add_app`, :func:`add_jwt_app`: the typed
  ``add(a: int, b: int) -> int`` tool for :mod:`benchmarks.bench_per_call`.

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


def _tool_call(tool: str) -> tuple[t.Any, dict[str, t.Any]] | Response:
    """The request's id and the arguments of a ``tools/call`` of ``tool``,
    or the JSON-RPC error to answer."""
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
    if params.get("name") != tool or not isinstance(arguments, dict):
        return _error(request_id, -32602, "Unknown tool")
    return request_id, arguments


def bare_app() -> Flask:
    """``tools/call`` of :func:`echo` as a plain Flask view: the same work minus MCP.

    It reads and parses the same body, checks the JSON-RPC envelope and the
    argument type, calls the same function and answers the same bytes.
    """
    app = _flask("bench_bare")

    @app.post(PATH)
    def tools_call() -> Response:
        call = _tool_call("echo")
        if isinstance(call, Response):
            return call
        request_id, arguments = call
        text = arguments.get("text")
        if not isinstance(text, str) or len(arguments) != 1:
            return _error(request_id, -32602, "Invalid arguments")
        result = {"content": [{"type": "text", "text": echo(text)}]}
        body = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return Response(
            json.dumps(body, separators=(",", ":")), mimetype="application/json"
        )

    return app


def _mcp_app(name: str, config: dict[str, t.Any], authenticate: t.Any = None) -> Flask:
    # Imported here so that the bare app's workers do not load flask_mcp: their
    # memory is the baseline the MCP workers' memory is compared with.
    from flask_mcp import FlaskMCP

    app = _flask(name)
    app.config.update(config)
    mcp = FlaskMCP(name=name, version="0.0.0", authenticate=authenticate)
    mcp.tool()(echo)
    mcp.init_app(app)
    return app


def stateless_app() -> Flask:
    """FlaskMCP without sessions: every POST stands alone."""
    return _mcp_app("bench_stateless", {"MCP_PATH": PATH, "MCP_STATELESS": True})


def session_app() -> Flask:
    """FlaskMCP with sessions in the default file store (the instance folder)."""
    return _mcp_app("bench_session", {"MCP_PATH": PATH})


def _jwt_auth() -> t.Any:
    """``bearer_auth(JWTVerifier(...))`` for the issuer the benchmark runs.

    The verifier keeps the JWK Set in the app's store (the default file
    store), as a deployment with the default settings does.
    """
    from flask_mcp.auth import JWTVerifier
    from flask_mcp.auth import bearer_auth

    verifier = JWTVerifier(
        issuer=os.environ["BENCH_JWT_ISSUER"],
        audience=os.environ["BENCH_JWT_AUDIENCE"],
        jwks_uri=os.environ["BENCH_JWKS_URL"],
    )
    return bearer_auth(verifier)


def stateless_jwt_app() -> Flask:
    """:func:`stateless_app` behind a bearer JWT (RFC 9068) check."""
    return _mcp_app(
        "bench_stateless_jwt",
        {"MCP_PATH": PATH, "MCP_STATELESS": True},
        authenticate=_jwt_auth(),
    )


def session_jwt_app() -> Flask:
    """:func:`session_app` behind a bearer JWT (RFC 9068) check."""
    return _mcp_app("bench_session_jwt", {"MCP_PATH": PATH}, authenticate=_jwt_auth())


def stateless_static_auth_app() -> Flask:
    """:func:`stateless_app` with an ``authenticate`` that verifies nothing.

    It returns one prebuilt session (the claims a benchmark token carries),
    so that the transport's own work for an authenticated request (running
    ``authenticate``, ``g.mcp_auth``, access checks) can be told apart from
    the JWT verification.
    """
    from flask_mcp.auth import TokenSession

    session = TokenSession.from_claims({"sub": "bench-user", "scope": "mcp:tools"})
    return _mcp_app(
        "bench_stateless_static",
        {"MCP_PATH": PATH, "MCP_STATELESS": True},
        authenticate=lambda request: session,
    )


# -- add(a: int, b: int) -> int (bench_per_call) ------------------------------


def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def _integer(value: t.Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def bare_add_app() -> Flask:
    """``tools/call`` of :func:`add` as a plain Flask view: the ceiling.

    The same checks a typed tool needs (two integer arguments, nothing
    else), the same answer bytes, no MCP.
    """
    app = _flask("bench_bare_add")

    @app.post(PATH)
    def tools_call() -> Response:
        call = _tool_call("add")
        if isinstance(call, Response):
            return call
        request_id, arguments = call
        a, b = arguments.get("a"), arguments.get("b")
        if not (_integer(a) and _integer(b)) or len(arguments) != 2:
            return _error(request_id, -32602, "Invalid arguments")
        result = {"content": [{"type": "text", "text": str(add(a, b))}]}
        body = {"jsonrpc": "2.0", "id": request_id, "result": result}
        return Response(
            json.dumps(body, separators=(",", ":")), content_type="application/json"
        )

    return app


def _add_app(name: str, authenticate: t.Any = None) -> Flask:
    from flask_mcp import FlaskMCP

    app = _flask(name)
    app.config.update({"MCP_PATH": PATH, "MCP_STATELESS": True})
    mcp = FlaskMCP(name=name, version="0.0.0", authenticate=authenticate)
    mcp.tool()(add)
    mcp.init_app(app)
    return app


def add_app() -> Flask:
    """FlaskMCP serving :func:`add`; no sessions (2026-07-28 has none, and
    2025-11-25 requests then cost what they cost in a stateless server)."""
    return _add_app("bench_add")


def add_jwt_app() -> Flask:
    """:func:`add_app` behind ``bearer_auth(JWTVerifier(...))``."""
    return _add_app("bench_add_jwt", authenticate=_jwt_auth())


def ops_app() -> Flask:
    """:func:`stateless_app` with traces, metrics and the audit trail on
    (:mod:`benchmarks.bench_ops`; the telemetry is set up in
    :mod:`benchmarks.ops_apps`)."""
    from benchmarks.ops_apps import ops_app as build

    return build()


def ops_sampled_app() -> Flask:
    """:func:`ops_app` recording a tenth of the traces
    (``ParentBased(TraceIdRatioBased(0.1))``)."""
    from benchmarks.ops_apps import ops_sampled_app as build

    return build()
