"""The app of the identity end-to-end tests: every way in on one endpoint.

``create_app()`` reads the environment (gunicorn runs
``tests.integration_auth.identity_app:create_app()``):

* ``IDENTITY_IDP``: the test issuer's URL, set up as Keycloak (realm
  ``acme``), client ``mcp-proxy`` / ``IDENTITY_IDP_SECRET``;
* ``IDENTITY_BASE_URL``: this app's public URL; ``IDENTITY_INSTANCE``: its
  instance folder; ``MCP_STORE_URL``, ``MCP_OAUTH_ENCRYPTION_KEY``.

The OAuth proxy in front of Keycloak, static and managed API keys, and
downstream tokens by token exchange. ``whoami`` names the way in, the
subject and the roles; ``orders`` and ``payroll`` call "APIs" with a
downstream token and answer what the token says.
"""

from __future__ import annotations

import base64
import json
import os

from flask import Flask
from flask import g

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import DownstreamError
from flask_mcp.auth import DownstreamTokens
from flask_mcp.auth import TokenExchange
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import managed_key_auth
from flask_mcp.auth import require_auth
from flask_mcp.auth import require_role
from flask_mcp.auth import roles_of
from flask_mcp.auth.providers import KeycloakProvider
from flask_mcp.auth.proxy import OAuthProxy

CLIENT_ID = "mcp-proxy"
STATIC_KEY = "static-key-for-the-ci-0123456789"


def create_app() -> Flask:
    app = Flask(__name__, instance_path=os.environ["IDENTITY_INSTANCE"])
    app.config["MCP_STORE_URL"] = os.environ.get("MCP_STORE_URL")
    app.config["MCP_OAUTH_ENCRYPTION_KEY"] = os.environ["MCP_OAUTH_ENCRYPTION_KEY"]
    provider = KeycloakProvider(
        server_url=os.environ["IDENTITY_IDP"],
        realm="acme",
        base_url=os.environ["IDENTITY_BASE_URL"],
        client_id=CLIENT_ID,
        client_secret=os.environ["IDENTITY_IDP_SECRET"],
    )
    downstream = DownstreamTokens(TokenExchange.for_provider(provider))
    mcp = FlaskMCP(
        name="identity",
        auth=OAuthProxy(provider, scopes=["tools"]),
        authenticate=[
            api_key_auth({STATIC_KEY: {"sub": "ci", "roles": ["builder"]}}),
            managed_key_auth(),
        ],
        downstream=downstream,
    )

    @mcp.tool(can_access=require_auth)
    def whoami(ctx: Context) -> str:
        """The way in, the subject and the roles."""
        session = ctx.session
        subject = session["sub"] if isinstance(session, dict) else session.subject
        roles = ",".join(sorted(roles_of(session)))
        return f"{g.mcp_auth_source} {subject} [{roles}]"

    @mcp.tool(can_access=require_role("admin"))
    def admin() -> str:
        """Only for admins."""
        return "admin ok"

    def call_api(ctx: Context, audience: str) -> str:
        try:
            token = downstream.token_for(ctx.session, audience, ["read"])
        except DownstreamError as error:
            return f"refused: {error}"
        payload = token.split(".")[1]
        claims = json.loads(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        )
        return f"aud={claims['aud']} sub={claims['sub']} azp={claims.get('azp')}"

    @mcp.tool(can_access=require_auth)
    def orders(ctx: Context) -> str:
        """Call the orders API as the user."""
        return call_api(ctx, "orders-api")

    @mcp.tool(can_access=require_auth)
    def payroll(ctx: Context) -> str:
        """Call the payroll API as the user (not allowed upstream)."""
        return call_api(ctx, "payroll-api")

    mcp.init_app(app)
    return app


__all__ = ["CLIENT_ID", "STATIC_KEY", "create_app"]
