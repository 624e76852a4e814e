import os

import requests
from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import get_auth_session
from flask_mcp.auth import require_auth
from flask_mcp.auth.providers import MicrosoftProvider
from flask_mcp.auth.providers import MicrosoftSession

app = Flask(__name__)

mcp = FlaskMCP(
    app,
    name="Calendar",
    auth=MicrosoftProvider(
        base_url="https://mcp.example.com",
        client_id=os.environ["MICROSOFT_CLIENT_ID"],
        client_secret=os.environ["MICROSOFT_CLIENT_SECRET"],
        tenant="organizations",
        allowed_tenants=[os.environ["MICROSOFT_TENANT_ID"]],
        scopes=["openid", "email", "profile", "offline_access", "Calendars.Read"],
    ),
)


@mcp.tool(can_access=require_auth, read_only=True)
def next_meeting(ctx: Context) -> str:
    """The signed-in user's next meeting, from Microsoft Graph."""
    session = get_auth_session(ctx.session, MicrosoftSession)
    response = requests.get(
        "https://graph.microsoft.com/v1.0/me/events?$top=1&$select=subject",
        headers={"Authorization": f"Bearer {session.access_token}"},
        timeout=10,
    )
    response.raise_for_status()
    events = response.json()["value"]
    return events[0]["subject"] if events else "No meetings."
