from flask import Flask

from flask_mcp import FlaskMCP

app = Flask(__name__)
mcp = FlaskMCP(app, name="Notes", version="1.0.0")

NOTES = {"1": "Buy milk", "2": "Call the bank"}


@mcp.tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@mcp.resource("notes://{id}", mime_type="text/plain")
def note(id: str) -> str:
    """A note by id."""
    return NOTES[id]


@mcp.prompt
def review(code: str) -> str:
    """Ask for a code review."""
    return f"Please review this code:\n\n{code}"
