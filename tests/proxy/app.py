"""The app of the OAuth proxy tests: ``FlaskMCP(auth=OAuthProxy(...))``.

``create_app()`` takes its settings as arguments, else from the environment
(for gunicorn: ``tests.proxy.app:create_app()``):

* ``PROXY_TEST_INSTANCE``: the instance folder (file store, generated keys);
* ``PROXY_TEST_BASE_URL``: the app's public URL (the issuer);
* ``PROXY_TEST_UPSTREAM``: the upstream issuer (``support.oidc.OIDCIssuer``);
* ``MCP_OAUTH_*``: the proxy's limits (JSON values), as in the app config.

``GET /whoami`` is protected by the proxy and returns the session as JSON,
upstream tokens included, so tests can check what tools would get. Every
response names the worker (``X-Worker-Pid``); a request with
``X-Test-Delay: seconds`` waits that long before it is handled.
"""

from __future__ import annotations

import json
import os
import time
import typing as t

from flask import Flask
from flask import g
from flask import jsonify
from flask import request

from flask_mcp import FlaskMCP
from flask_mcp.auth.providers import OAuthProvider
from flask_mcp.auth.providers import Provider
from flask_mcp.auth.proxy import OAuthProxy

SCOPES = ("mcp:read", "mcp:write")
UPSTREAM_CLIENT_ID = "proxy-upstream-client"
UPSTREAM_CLIENT_SECRET = "proxy-upstream-secret"


def make_provider(base_url: str, upstream: str) -> OAuthProvider:
    """The generic provider pointed at the mock upstream."""
    return OAuthProvider(
        base_url=base_url,
        client_id=UPSTREAM_CLIENT_ID,
        client_secret=UPSTREAM_CLIENT_SECRET,
        scopes=["openid", "profile", "email"],
        authorize_url=f"{upstream}/authorize",
        token_url=f"{upstream}/token",
        userinfo_url=f"{upstream}/userinfo",
        revocation_url=f"{upstream}/revoke",
        name="mock-upstream",
    )


def create_app(
    instance_path: str | None = None,
    base_url: str | None = None,
    upstream: str | None = None,
    store_url: str | None = None,
    config: dict[str, t.Any] | None = None,
    provider: Provider | None = None,
    **proxy_options: t.Any,
) -> Flask:
    """The test app; ``provider`` replaces the generic one pointed at
    ``upstream``."""
    instance_path = instance_path or os.environ["PROXY_TEST_INSTANCE"]
    base_url = base_url or os.environ["PROXY_TEST_BASE_URL"]
    app = Flask(__name__, instance_path=instance_path)
    app.config["MCP_STORE_URL"] = store_url or os.environ.get("MCP_STORE_URL")
    app.config.update(
        {k: json.loads(v) for k, v in os.environ.items() if k.startswith("MCP_OAUTH_")}
    )
    app.config.update(config or {})
    proxy_options.setdefault("scopes", SCOPES)
    provider = provider or make_provider(
        base_url, upstream or os.environ["PROXY_TEST_UPSTREAM"]
    )
    proxy = OAuthProxy(provider, **proxy_options)
    mcp = FlaskMCP(name="proxy-test", auth=proxy)

    @mcp.tool()
    def hello() -> str:
        """Say hello."""
        return "hello"

    mcp.init_app(app)  # runs proxy.init_app(app, store=..., mcp_path=..., name=...)

    @app.get("/whoami")
    @mcp.protected
    def whoami() -> t.Any:
        session = g.mcp_auth
        return jsonify(
            subject=session.subject,
            email=session.email,
            name=session.name,
            client_id=session.client_id,
            scopes=sorted(session.scopes),
            upstream_access_token=session.access_token,
            upstream_refresh_token=session.refresh_token,
            upstream_expires_at=session.expires_at,
        )

    @app.get("/")
    def index() -> str:
        return "ok"

    @app.before_request
    def delay() -> None:
        # Tests hold a worker busy this long, so that the next request of a
        # race must be taken by the other worker.
        time.sleep(float(request.headers.get("X-Test-Delay", 0)))

    @app.after_request
    def worker(response: t.Any) -> t.Any:
        response.headers["X-Worker-Pid"] = str(os.getpid())
        return response

    app.extensions["proxy_test"] = proxy
    return app
