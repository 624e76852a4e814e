import hmac

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth import Forbidden
from flask_mcp.auth import Unauthorized

TENANTS = {"acme": "s3cret", "globex": "hunter2"}
SUSPENDED = {"globex"}


async def authenticate(request):
    tenant = request.headers.get("X-Tenant")
    secret = request.headers.get("X-Tenant-Secret", "")
    if tenant is None:
        return None  # no credentials: 401 with a challenge
    expected = TENANTS.get(tenant, "")
    if not hmac.compare_digest(secret.encode(), expected.encode()) or not expected:
        raise Unauthorized("unknown tenant or wrong secret", error="invalid_token")
    if tenant in SUSPENDED:
        raise Forbidden("this tenant is suspended")
    return {"sub": tenant, "scopes": ["reports:read"]}


app = Flask(__name__)
# Not OAuth: tell clients which credential to send instead of "Bearer".
app.config["MCP_AUTH_CHALLENGE"] = 'Tenant header="X-Tenant"'
mcp = FlaskMCP(app, name="Tenants", authenticate=authenticate)


@mcp.tool
def ping() -> str:
    """Check the connection."""
    return "pong"
