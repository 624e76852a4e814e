import os

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import DownstreamTokens
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import OnBehalfOf
from flask_mcp.auth import bearer_auth
from flask_mcp.auth import require_auth

app = Flask(__name__)
tenant = os.environ["AZURE_TENANT_ID"]
client_id = os.environ["AZURE_CLIENT_ID"]  # this server's app registration
authority = os.environ.get("AZURE_AUTHORITY", "https://login.microsoftonline.com")

downstream = DownstreamTokens(
    OnBehalfOf(
        tenant,
        client_id,
        os.environ["AZURE_CLIENT_SECRET"],
        authority=authority,
    )
)
mcp = FlaskMCP(
    app,
    name="Graph tools",
    # Tokens Entra ID issued for this server's API (api://<client id>).
    authenticate=bearer_auth(
        JWTVerifier(issuer=f"{authority}/{tenant}/v2.0", audience=f"api://{client_id}")
    ),
    downstream=downstream,
)


@mcp.tool(can_access=require_auth)
def token_for_orders(ctx: Context) -> str:
    """Show that a token for the orders API can be had (its first characters)."""
    return downstream.token_for(ctx.session, "api://orders", ["orders.read"])[:8]
