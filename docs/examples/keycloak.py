import os

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import require_role
from flask_mcp.auth.providers import KeycloakProvider

app = Flask(__name__)
app.config["MCP_ALLOWED_HOSTS"] = ["mcp.example.com"]

mcp = FlaskMCP(
    app,
    name="Intranet",
    auth=KeycloakProvider(
        server_url=os.environ["KEYCLOAK_URL"],  # https://sso.example.com
        realm="acme",
        base_url="https://mcp.example.com",
        client_id="mcp-server",
        client_secret=os.environ["KEYCLOAK_CLIENT_SECRET"],
    ),
)


@mcp.tool(can_access=require_role("admin"))  # a realm role, or a role of mcp-server
def purge_cache(ctx: Context) -> str:
    """Purge the cache (admins only)."""
    return f"purged by {ctx.session.email}"
