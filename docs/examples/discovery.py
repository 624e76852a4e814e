import functools
import os

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import AuthError
from flask_mcp.auth import DiscoveryDocumentCache
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import Unauthorized
from flask_mcp.store import bind_store

ISSUER = os.environ["OAUTH_ISSUER"]  # https://auth.example.com
SERVER_URL = os.environ["MCP_SERVER_URL"]  # https://mcp.example.com/mcp

discovery_cache = DiscoveryDocumentCache(ttl=3600)  # seconds: one hour


@functools.cache
def verifier() -> JWTVerifier:
    config = discovery_cache.get(f"{ISSUER}/.well-known/openid-configuration")
    return JWTVerifier(
        issuer=config["issuer"],
        audience=SERVER_URL,
        jwks_uri=config["jwks_uri"],
        algorithms=["RS256", "ES256"],
        discovery=discovery_cache,
    )


def authenticate(request):
    auth_header = request.headers.get("Authorization", "")
    if not auth_header.startswith("Bearer "):
        return None  # 401 with a challenge pointing at the discovery documents

    token = auth_header[7:]
    try:
        payload = verifier().verify(token).claims
    except AuthError:
        raise Unauthorized("Invalid OAuth token", error="invalid_token") from None

    return {
        "userId": payload["sub"],
        "scope": payload.get("scope"),
        "email": payload.get("email"),
    }


app = Flask(__name__)
mcp = FlaskMCP(
    app,
    name="My Server",
    version="1.0.0",
    oauth={
        "enabled": True,
        "authorizationServer": {
            "issuer": ISSUER,
            "authorizationEndpoint": f"{ISSUER}/oauth/authorize",
            "tokenEndpoint": f"{ISSUER}/oauth/token",
            "jwksUri": f"{ISSUER}/.well-known/jwks.json",
            "responseTypesSupported": ["code"],
        },
        "protectedResource": {
            "authorizationServers": [ISSUER],
        },
    },
    authenticate=authenticate,
)
# Share the documents with every worker: the cache takes the app's store.
bind_store(discovery_cache, mcp.state(app).store)


@mcp.tool
def whoami(ctx: Context) -> str:
    """Who is calling."""
    return ctx.session["email"] or ctx.session["userId"]
