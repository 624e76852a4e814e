import os

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth import require_role
from flask_mcp.auth.providers import CognitoProvider

app = Flask(__name__)
app.config["MCP_ALLOWED_HOSTS"] = ["mcp.example.com"]

mcp = FlaskMCP(
    app,
    auth=CognitoProvider(
        user_pool_id=os.environ["COGNITO_USER_POOL_ID"],  # us-east-1_AbC123
        domain=os.environ["COGNITO_DOMAIN"],  # acme.auth.us-east-1.amazoncognito.com
        base_url="https://mcp.example.com",
        client_id=os.environ["COGNITO_CLIENT_ID"],
        client_secret=os.environ["COGNITO_CLIENT_SECRET"],
    ),
)


@mcp.tool(can_access=require_role("ops"))  # a user pool group
def restart_workers() -> str:
    """Restart the background workers."""
    return "restarted"
