from flask import Flask
from flask import current_app

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import require_role


def authenticate(request):
    """API keys from the app's config, so that each test app has its own."""
    return api_key_auth(current_app.config["API_KEYS"])(request)


mcp = FlaskMCP(name="Todo", authenticate=authenticate)
TODOS: list[str] = []


@mcp.tool(can_access=require_role("editor"))
def add_todo(title: str, ctx: Context) -> str:
    """Add a to-do item after the user confirms it."""
    answer = ctx.elicit(
        f"Add {title!r}?",
        {"type": "object", "properties": {"confirm": {"type": "boolean"}}},
    )
    if answer["action"] != "accept" or not answer["content"]["confirm"]:
        return "Not added."
    TODOS.append(title)
    return f"Added {title!r}."


@mcp.tool(read_only=True)
def list_todos() -> dict:
    """Every to-do item."""
    return {"todos": TODOS}


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(config or {})
    mcp.init_app(app)
    return app
