from flask import Flask

from flask_mcp import FlaskMCP

app = Flask(__name__)
mcp = FlaskMCP(app, name="Hello")


@mcp.tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b
