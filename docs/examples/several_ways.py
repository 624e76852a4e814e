import os

from flask import Flask
from flask import g

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import bearer_auth
from flask_mcp.auth import managed_key_auth
from flask_mcp.auth import require_auth
from flask_mcp.auth import require_role

app = Flask(__name__)
issuer = os.environ["OIDC_ISSUER"]  # the company's authorization server

mcp = FlaskMCP(
    app,
    name="Intranet tools",
    authenticate=[
        # Staff: access tokens of the company's authorization server.
        bearer_auth(JWTVerifier(issuer=issuer, audience="http://localhost/mcp")),
        # The deploy bot: a key from the environment.
        api_key_auth(
            {os.environ["DEPLOY_BOT_KEY"]: {"sub": "deploy-bot", "roles": ["deployer"]}}
        ),
        # Everything else: keys made with `flask mcp keys create`.
        managed_key_auth(),
    ],
    # OAuth-capable clients are told where to sign in.
    oauth={"enabled": True, "protected_resource": {"authorization_servers": [issuer]}},
)


@mcp.tool(can_access=require_auth)
def whoami(ctx: Context) -> str:
    """Who is calling, and which way they came in."""
    subject = getattr(ctx.session, "subject", None) or ctx.session["sub"]
    return f"{subject} via {g.mcp_auth_source}"


@mcp.tool(can_access=require_role("deployer", "admin"))
def deploy(service: str) -> str:
    """Deploy a service: the deploy bot, and staff who are admins."""
    return f"{service} deployed"
