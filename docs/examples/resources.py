import datetime

from flask import Flask

from flask_mcp import EmbeddedResource
from flask_mcp import FlaskMCP

app = Flask(__name__)
mcp = FlaskMCP(app, name="Resources")

USERS = {1: {"name": "Ada"}, 2: {"name": "Grace"}}


@mcp.resource(
    "config://app",
    mime_type="application/json",
    annotations={"audience": ["assistant"], "priority": 0.8},
)
def app_config() -> dict:
    """The application's settings."""
    return {"theme": "dark", "language": "en"}


@mcp.resource("users://{user_id}/profile", mime_type="application/json")
def user_profile(user_id: int) -> dict:
    """A user's profile; the id is converted to an int."""
    return {"id": user_id, **USERS[user_id]}


@mcp.resource("logs://{day}", mime_type="text/plain")
def daily_logs(day: str) -> list[EmbeddedResource]:
    """The day's log files."""
    return [
        EmbeddedResource(f"logs://{day}/app.log", text="started\nstopped\n"),
        EmbeddedResource(f"logs://{day}/error.log", text=""),
    ]


@mcp.resource(
    "reports://latest",
    mime_type="application/pdf",
    annotations={"last_modified": datetime.date(2025, 6, 1)},
)
def latest_report() -> bytes:
    """The latest report as a PDF."""
    return b"%PDF-1.7\n"
