import os

from flask import Flask

from flask_mcp import FlaskMCP

mcp = FlaskMCP(name="Configured")


def create_app() -> Flask:
    app = Flask(__name__)
    app.config.update(
        MCP_ALLOWED_HOSTS=os.environ.get("ALLOWED_HOSTS", "localhost"),
        MCP_PAGE_SIZE=20,
        MCP_MASK_ERRORS=not app.debug,
    )
    mcp.init_app(app)  # reads and checks every MCP_* key now
    return app
