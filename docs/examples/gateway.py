import os

from flask import Flask

from flask_mcp import FlaskMCP

app = Flask(__name__)
app.config.update(
    MCP_STORE_URL=os.environ["REDIS_URL"],
    MCP_ALLOWED_HOSTS=["tools.example.com"],
    # Pushpin's publishing endpoint, and the key it signs requests with
    # (the same as sig_key in its pushpin.conf).
    MCP_GRIP_URL=os.environ.get("GRIP_URL", "http://127.0.0.1:5561"),
    MCP_GRIP_KEY=os.environ["GRIP_KEY"],
)
mcp = FlaskMCP(app, name="Tickets")

TICKETS = {1: "open"}


@mcp.resource("tickets://{ticket_id}")
def ticket(ticket_id: int) -> str:
    return TICKETS.get(ticket_id, "unknown")


@mcp.tool
def close_ticket(ticket_id: int) -> str:
    """Close a ticket; whoever listens for it hears at once."""
    TICKETS[ticket_id] = "closed"
    mcp.notify_resource_updated(f"tickets://{ticket_id}")
    return "closed"
