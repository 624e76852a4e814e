import os

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import bearer_auth
from flask_mcp.auth import require_scopes

ISSUER = os.environ["OAUTH_ISSUER"]  # https://auth.example.com
SERVER_URL = os.environ["MCP_SERVER_URL"]  # https://mcp.example.com/mcp

verifier = JWTVerifier(issuer=ISSUER, audience=SERVER_URL)

app = Flask(__name__)
mcp = FlaskMCP(
    app,
    name="Files",
    authenticate=bearer_auth(verifier),
    oauth={
        "enabled": True,
        "protected_resource": {
            "authorization_servers": [ISSUER],
            "scopes_supported": ["files:read", "files:write"],
        },
    },
)


@mcp.tool(can_access=require_scopes("files:read"), read_only=True)
def list_files(ctx: Context) -> list[str]:
    """The caller's files."""
    return [f"/home/{ctx.session.subject}/notes.txt"]


@mcp.tool(can_access=require_scopes("files:write"), step_up=True)
def delete_file(path: str) -> str:
    """Delete a file (asks for files:write when the token lacks it)."""
    return f"deleted {path}"
