import os

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from flask_mcp import FlaskMCP
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import bearer_auth

app = Flask(__name__)
app.config.update(
    # Signs requestState of 2026-07-28 requests: the same on every host.
    SECRET_KEY=os.environ["SECRET_KEY"],
    # Shared state for every worker of every host.
    MCP_STORE_URL=os.environ["REDIS_URL"],  # redis://redis.internal:6379/0
    # The names clients use to reach the server (DNS-rebinding defence).
    MCP_ALLOWED_HOSTS=["tools.example.com"],
)
# Behind one reverse proxy that sets X-Forwarded-For, -Proto, -Host and
# -Prefix (the app is served under https://tools.example.com/assistant).
app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)

mcp = FlaskMCP(
    app,
    name="Assistant",
    authenticate=bearer_auth(
        JWTVerifier(
            issuer=os.environ["OAUTH_ISSUER"],
            audience="https://tools.example.com/assistant/mcp",
        )
    ),
    oauth={
        "enabled": True,
        "protected_resource": {"authorization_servers": [os.environ["OAUTH_ISSUER"]]},
    },
)


@mcp.tool
def ping() -> str:
    """Check the connection."""
    return "pong"
