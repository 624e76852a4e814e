import os

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth import require_role
from flask_mcp.auth.providers import OktaProvider

app = Flask(__name__)
app.config["MCP_ALLOWED_HOSTS"] = ["mcp.example.com"]

mcp = FlaskMCP(
    app,
    auth=OktaProvider(
        domain=os.environ["OKTA_DOMAIN"],  # dev-123456.okta.com
        base_url="https://mcp.example.com",
        client_id=os.environ["OKTA_CLIENT_ID"],
        client_secret=os.environ["OKTA_CLIENT_SECRET"],
    ),
)


@mcp.tool(can_access=require_role("mcp-admins"))  # an Okta group
def rotate_secrets() -> str:
    """Rotate the service secrets."""
    return "rotated"
