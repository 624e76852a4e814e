"""The server of the store's end-to-end tests (Redis faults, Sentinel
failover, Cluster, Flask-Caching), under gunicorn.

Served by ``GunicornServer(app="store_app:create_app()", args=("--chdir",
this folder))``; settings come from the environment:

* ``STORE_APP_INSTANCE``: the instance folder;
* ``MCP_*``: the app config (JSON values are parsed: ``MCP_STORE_TIMEOUT=1``);
* ``CACHE_*``: Flask-Caching's config; with ``CACHE_TYPE`` set, the app has a
  ``Cache`` (found by FlaskMCP in ``app.extensions``);
* ``STORE_APP_JWT_ISSUER``: ``/jwt`` is a second MCP endpoint that takes
  bearer JWTs of that issuer (audience ``store-app``), its metadata and keys
  cached ``STORE_APP_JWT_TTL`` seconds (3600);
* ``STORE_APP_UPSTREAM``: ``/secure`` is a third one behind the OAuth proxy,
  whose upstream provider is there (registration never calls it).

``/mcp`` needs no credentials. Its tools: ``add`` (no store at all on the
2026-07-28 path), ``steps`` (reports progress: events in the store on a
2025 session). ``GET /plain`` is a route that touches nothing. Every
response names its worker in ``X-Worker-Pid``.
"""

from __future__ import annotations

import json
import os
import time
import typing as t

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import DiscoveryDocumentCache
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import bearer_auth
from flask_mcp.auth.providers import OAuthProvider
from flask_mcp.auth.proxy import OAuthProxy


def create_app() -> Flask:
    app = Flask(__name__, instance_path=os.environ["STORE_APP_INSTANCE"])
    app.config.update(
        {
            k: _value(v)
            for k, v in os.environ.items()
            if k.startswith(("MCP_", "CACHE_"))
        }
    )
    if app.config.get("CACHE_TYPE"):
        from flask_caching import Cache

        Cache(app)
    mcp = FlaskMCP(app, name="store-app")
    _tools(mcp)
    issuer = os.environ.get("STORE_APP_JWT_ISSUER")
    if issuer:
        ttl = float(os.environ.get("STORE_APP_JWT_TTL", 3600))
        verifier = JWTVerifier(
            issuer=issuer,
            audience="store-app",
            discovery=DiscoveryDocumentCache(ttl=ttl),
        )
        jwt = FlaskMCP(
            app,
            name="store-app-jwt",
            path="/jwt",
            blueprint_name="jwt",
            authenticate=bearer_auth(verifier),
        )
        _tools(jwt)
    upstream = os.environ.get("STORE_APP_UPSTREAM")
    if upstream:
        provider = OAuthProvider(
            base_url=os.environ["STORE_APP_BASE_URL"],
            client_id="store-app",
            client_secret="store-app-secret",
            authorize_url=f"{upstream}/authorize",
            token_url=f"{upstream}/token",
            name="upstream",
        )
        secure = FlaskMCP(
            app,
            name="store-app-secure",
            path="/secure",
            blueprint_name="secure",
            auth=OAuthProxy(provider, scopes=["mcp"]),
        )
        _tools(secure)

    @app.get("/plain")
    def plain() -> str:
        return "plain"

    @app.after_request
    def worker(response: t.Any) -> t.Any:
        response.headers["X-Worker-Pid"] = str(os.getpid())
        return response

    return app


def _tools(mcp: FlaskMCP) -> None:
    @mcp.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    @mcp.tool
    def steps(count: int, ctx: Context) -> str:
        """Report ``count`` progress steps, then answer."""
        for step in range(1, count + 1):
            ctx.report_progress(step, count, message=f"step {step}")
            time.sleep(0.01)
        return f"{count} steps"


def _value(text: str) -> t.Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
