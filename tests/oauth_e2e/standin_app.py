"""A stand-in for ``example_app:create_app()`` in OIDC proxy mode, wired by
hand (as tests/proxy/app.py does) until ``FlaskMCP(app, auth=provider)`` and
the example app's ``EXAMPLE_OIDC_*`` mode exist. Same environment variables,
same ``whoami`` contract (the signed-in user's subject and email).

Run the e2e tests against it with
``OAUTH_E2E_APP="tests.oauth_e2e.standin_app:create_app()"``.
"""

from __future__ import annotations

import json
import os
import typing as t

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import get_auth_session
from flask_mcp.auth import require_auth
from flask_mcp.auth.providers import OIDCProvider
from flask_mcp.auth.proxy import OAuthProxy

SCOPES = ["data:read", "data:write"]


def create_app() -> Flask:
    app = Flask(__name__, instance_path=os.environ["EXAMPLE_INSTANCE_PATH"])
    app.config.update(
        {k: _value(v) for k, v in os.environ.items() if k.startswith("MCP_")}
    )
    base_url = os.environ["EXAMPLE_BASE_URL"]
    provider = OIDCProvider(
        issuer=os.environ["EXAMPLE_OIDC_ISSUER"],
        base_url=base_url,
        client_id=os.environ["EXAMPLE_OIDC_CLIENT_ID"],
        client_secret=os.environ["EXAMPLE_OIDC_CLIENT_SECRET"],
    )
    proxy = OAuthProxy(provider, scopes=SCOPES)
    mcp = FlaskMCP(
        name="oauth-e2e-standin",
        authenticate=proxy.authenticate,
        oauth=proxy.oauth_settings("/mcp"),
    )

    @mcp.tool(can_access=require_auth, read_only=True)
    def whoami(ctx: Context) -> dict[str, t.Any]:
        """The signed-in user's subject and email."""
        session = get_auth_session(ctx.session)
        return {"subject": session.subject, "email": session.email}

    mcp.init_app(app)
    proxy.init_app(
        app, store=mcp.state(app).store, mcp_path="/mcp", name=mcp.blueprint_name
    )

    @app.get("/")
    def index() -> str:
        return "ok"

    return app


def _value(text: str) -> object:
    try:
        return json.loads(text)
    except ValueError:
        return text
