import os

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth.providers import GoogleProvider
from flask_mcp.auth.proxy import OAuthProxy

app = Flask(__name__)
app.config.update(
    MCP_STORE_URL=os.environ.get("REDIS_URL"),  # None: files in the instance folder
    # The same keys on every host (see "Keys" below).
    MCP_OAUTH_SIGNING_KEYS=[os.environ["MCP_SIGNING_KEY_PEM"]],
    MCP_OAUTH_ENCRYPTION_KEY=os.environ["MCP_ENCRYPTION_KEY"],
)

google = GoogleProvider(
    base_url="https://mcp.example.com",
    client_id=os.environ["GOOGLE_CLIENT_ID"],
    client_secret=os.environ["GOOGLE_CLIENT_SECRET"],
    hosted_domain="example.com",  # only accounts of this Workspace domain
)

mcp = FlaskMCP(
    app,
    name="Company tools",
    auth=OAuthProxy(
        google,
        scopes=["tools:read", "tools:write"],
        redirect_uri_patterns=[
            "http://127.0.0.1:*/callback",  # desktop clients, any port
            "https://claude.ai/api/mcp/auth_callback",
        ],
        registration_token=os.environ.get("MCP_REGISTRATION_TOKEN"),  # None: open
        access_token_ttl=3600,
        refresh_token_ttl=30 * 86400,
    ),
)
