import os

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import require_role

app = Flask(__name__)

mcp = FlaskMCP(
    app,
    name="Reports",
    authenticate=api_key_auth(
        {
            os.environ["ALICE_KEY"]: {"sub": "alice", "role": "admin"},
            os.environ["BOB_KEY"]: {"sub": "bob", "role": "user"},
        }
    ),
)


@mcp.tool
def whoami(ctx: Context) -> str:
    """Who is calling."""
    return ctx.session["sub"]


@mcp.tool(can_access=require_role("admin"))
def revenue() -> str:
    """This quarter's revenue (admins only)."""
    return "1.2M"
