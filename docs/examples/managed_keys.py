from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import managed_key_auth
from flask_mcp.auth import require_role
from flask_mcp.auth import require_scopes

app = Flask(__name__)
mcp = FlaskMCP(app, name="Reports", authenticate=managed_key_auth())


@mcp.tool(can_access=require_scopes("reports:read"))
def revenue(ctx: Context) -> str:
    """This quarter's revenue."""
    return f"1.2M (asked by {ctx.session.subject})"


@mcp.tool(can_access=require_role("admin"))
def close_quarter() -> str:
    """Close the quarter's books."""
    return "closed"
