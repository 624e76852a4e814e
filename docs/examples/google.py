import json
import os

import requests
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
    version="1.0.0",
    auth=GoogleProvider(
        base_url="https://your-server.com",
        client_id=os.environ["GOOGLE_CLIENT_ID"],
        client_secret=os.environ["GOOGLE_CLIENT_SECRET"],
        scopes=["openid", "profile", "email"],
    ),
)


@mcp.tool(name="get-profile", can_access=require_auth)
def get_profile(ctx: Context) -> str:
    """Get user profile"""
    session = get_auth_session(ctx.session, GoogleSession)
    response = requests.get(
        "https://www.googleapis.com/oauth2/v2/userinfo",
        headers={"Authorization": f"Bearer {session.access_token}"},
        timeout=10,
    )
    return json.dumps(response.json())
