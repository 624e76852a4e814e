from flask import Flask

from flask_mcp import FlaskMCP

mcp = FlaskMCP(name="Configured from the environment")


def create_app() -> Flask:
    app = Flask(__name__)
    # FLASK_MCP_STORE_URL=redis://... becomes MCP_STORE_URL: Flask drops the
    # FLASK_ prefix, and reads values as JSON when they parse
    # (FLASK_MCP_ALLOWED_HOSTS='["tools.example.com"]', FLASK_MCP_PAGE_SIZE=20).
    app.config.from_prefixed_env()
    mcp.init_app(app)
    return app
