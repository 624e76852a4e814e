import os

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import IntrospectionVerifier
from flask_mcp.auth import bearer_auth

verifier = IntrospectionVerifier(
    endpoint=os.environ["INTROSPECTION_URL"],  # https://auth.example.com/introspect
    client_id=os.environ["INTROSPECTION_CLIENT_ID"],
    client_secret=os.environ["INTROSPECTION_CLIENT_SECRET"],
    audience=os.environ["MCP_SERVER_URL"],
    cache_ttl=60,
)

app = Flask(__name__)
mcp = FlaskMCP(app, name="Opaque tokens", authenticate=bearer_auth(verifier))


@mcp.tool
def whoami(ctx: Context) -> str:
    """The token's subject."""
    return ctx.session.subject
