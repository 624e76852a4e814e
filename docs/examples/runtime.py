from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.components.tools import Tool


def weather(city: str) -> str:
    """Today's weather in a city."""
    return f"Sunny in {city}"


def forecast(city: str, days: int = 3) -> list[str]:
    """The forecast for the next days."""
    return [f"Day {n}: sunny in {city}" for n in range(1, days + 1)]


def create_app() -> Flask:
    app = Flask(__name__)
    public = FlaskMCP(name="Weather", blueprint_name="public", path="/mcp")
    partners = FlaskMCP(name="Weather Pro", blueprint_name="partners", path="/pro/mcp")
    # One function, registered on two servers.
    for server in (public, partners):
        server.add(Tool.from_function(weather, read_only=True))
    partners.add(Tool.from_function(forecast, read_only=True))
    public.init_app(app)
    partners.init_app(app)
    return app
