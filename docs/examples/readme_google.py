import os

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import get_auth_session
from flask_mcp.auth import require_auth
from flask_mcp.auth.providers import GoogleProvider
from flask_mcp.auth.providers import GoogleSession

app = Flask(__name__)
mcp = FlaskMCP(
    app,
    name="My Server",
    auth=GoogleProvider(
        base_url="https://your-server.com",
        client_id=os.environ["GOOGLE_CLIENT_ID"],
        client_secret=os.environ["GOOGLE_CLIENT_SECRET"],
    ),
)


@mcp.tool(can_access=require_auth)
def get_profile(ctx: Context) -> str:
    """The signed-in user's Google profile."""
    session = get_auth_session(ctx.session, GoogleSession)
    return f"{session.name} <{session.email}>"
