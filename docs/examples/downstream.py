import os

import requests
from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import DownstreamError
from flask_mcp.auth import DownstreamTokens
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import TokenExchange
from flask_mcp.auth import bearer_auth
from flask_mcp.auth import require_auth

app = Flask(__name__)
app.config["MCP_OAUTH_ENCRYPTION_KEY"] = os.environ["MCP_OAUTH_ENCRYPTION_KEY"]
realm = os.environ["KEYCLOAK_REALM_URL"]  # https://sso.example.com/realms/acme

downstream = DownstreamTokens(
    TokenExchange(
        f"{realm}/protocol/openid-connect/token",
        client_id="mcp-server",  # allowed to exchange, for orders-api
        client_secret=os.environ["KEYCLOAK_CLIENT_SECRET"],
    )
)
mcp = FlaskMCP(
    app,
    name="Orders",
    authenticate=bearer_auth(JWTVerifier(issuer=realm, audience="mcp-server")),
    downstream=downstream,
)


@mcp.tool(can_access=require_auth)
def my_orders(ctx: Context) -> str:
    """The signed-in user's open orders, from the orders API."""
    try:
        token = downstream.token_for(ctx.session, "orders-api", ["orders:read"])
    except DownstreamError as error:
        return f"The orders API is unavailable: {error}"
    reply = requests.get(
        os.environ["ORDERS_API"],
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    return reply.text
