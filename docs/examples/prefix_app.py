import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import require_auth
from flask_mcp.auth.providers import OIDCProvider
from flask_mcp.auth.proxy import OAuthProxy

# The public URL, prefix included: what clients reach through nginx.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "https://tools.example.com/tools")

app = Flask(__name__)
app.config["MCP_STORE_URL"] = os.environ.get("REDIS_URL")

mcp = FlaskMCP(
    app,
    name="Tools under a prefix",
    auth=OAuthProxy(
        OIDCProvider(
            issuer=os.environ["OIDC_ISSUER"],
            base_url=PUBLIC_URL,
            client_id=os.environ["OIDC_CLIENT_ID"],
            client_secret=os.environ["OIDC_CLIENT_SECRET"],
        ),
        scopes=["tools:read"],
    ),
)


@mcp.tool(can_access=require_auth)
def whoami(ctx: Context) -> str:
    """The signed-in user."""
    return ctx.session.subject


# One proxy in front: trust its X-Forwarded-For, -Proto and -Prefix.
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_prefix=1)
