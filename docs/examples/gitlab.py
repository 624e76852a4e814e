import os

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import get_auth_session
from flask_mcp.auth import require_role
from flask_mcp.auth.providers import GitLabProvider
from flask_mcp.auth.providers import GitLabSession

app = Flask(__name__)
app.config["MCP_ALLOWED_HOSTS"] = ["mcp.example.com"]

mcp = FlaskMCP(
    app,
    auth=GitLabProvider(
        gitlab_url=os.environ.get("GITLAB_URL", "https://gitlab.com"),
        base_url="https://mcp.example.com",
        client_id=os.environ["GITLAB_CLIENT_ID"],
        client_secret=os.environ["GITLAB_CLIENT_SECRET"],
    ),
)


@mcp.tool(can_access=require_role("acme/platform"))  # a group's full path
def deploy_preview(ctx: Context) -> str:
    """Deploy a preview environment."""
    session = get_auth_session(ctx.session, GitLabSession)
    return f"preview for @{session.username}"
