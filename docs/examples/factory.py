from flask import Flask

from flask_mcp import FlaskMCP

mcp = FlaskMCP(name="Notes")


@mcp.tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(config or {})
    mcp.init_app(app)
    return app
