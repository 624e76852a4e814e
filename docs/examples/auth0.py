import os

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth import require_role
from flask_mcp.auth.providers import Auth0Provider

app = Flask(__name__)
app.config["MCP_ALLOWED_HOSTS"] = ["mcp.example.com"]

mcp = FlaskMCP(
    app,
    auth=Auth0Provider(
        domain=os.environ["AUTH0_DOMAIN"],  # acme.us.auth0.com
        audience="https://api.example.com",  # tokens for your API
        roles_claim="https://example.com/roles",  # set by a post-login Action
        base_url="https://mcp.example.com",
        client_id=os.environ["AUTH0_CLIENT_ID"],
        client_secret=os.environ["AUTH0_CLIENT_SECRET"],
    ),
)


@mcp.tool(can_access=require_role("editor"))
def publish(slug: str) -> str:
    """Publish a draft."""
    return f"{slug} published"
