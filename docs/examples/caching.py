import os

from flask import Flask
from flask_caching import Cache

from flask_mcp import FlaskMCP
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import bearer_auth

app = Flask(__name__)
app.config.update(
    # What must not be lost: sessions, OAuth records, counters.
    MCP_STORE_URL=os.environ["REDIS_URL"],
    # What may be lost: the issuer's metadata and keys, in the app's cache.
    CACHE_TYPE="RedisCache",
    CACHE_REDIS_URL=os.environ["CACHE_REDIS_URL"],
    CACHE_OPTIONS={"socket_timeout": 1, "socket_connect_timeout": 1},
)
cache = Cache(app)

mcp = FlaskMCP(
    app,
    cache=cache,  # found in app.extensions anyway; explicit is clearer
    authenticate=bearer_auth(
        JWTVerifier(
            issuer=os.environ["OAUTH_ISSUER"], audience="https://tools.example.com/mcp"
        )
    ),
)


@mcp.tool
def ping() -> str:
    """Check the connection."""
    return "pong"
