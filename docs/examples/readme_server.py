from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import require_role

app = Flask(__name__)
mcp = FlaskMCP(
    app,
    name="My Server",
    version="1.0.0",
    authenticate=api_key_auth({"123": {"id": 1, "role": "admin"}}),
)


@mcp.tool(read_only=True)
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@mcp.tool(can_access=require_role("admin"))
def report(days: int, ctx: Context) -> str:
    """Summarise the last days (admins only)."""
    ctx.report_progress(0, days)
    return f"{days} days, asked by {ctx.session['id']}"


@mcp.resource("notes://{id}", mime_type="text/plain")
def note(id: str) -> str:
    """A note by id."""
    return f"note {id}"


@mcp.prompt()
def review(code: str) -> str:
    """Ask for a code review."""
    return f"Please review:\n{code}"
