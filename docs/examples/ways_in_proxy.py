import os

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import managed_key_auth
from flask_mcp.auth import require_auth
from flask_mcp.auth.providers import KeycloakProvider

app = Flask(__name__)
app.config["MCP_ALLOWED_HOSTS"] = ["mcp.example.com"]

mcp = FlaskMCP(
    app,
    # People sign in through Keycloak, by the OAuth proxy: the first way in.
    auth=KeycloakProvider(
        server_url=os.environ["KEYCLOAK_URL"],
        realm="acme",
        base_url="https://mcp.example.com",
        client_id="mcp-server",
        client_secret=os.environ["KEYCLOAK_CLIENT_SECRET"],
    ),
    # Then the keys of CI jobs and bots.
    authenticate=[
        api_key_auth({os.environ["CI_KEY"]: {"sub": "ci", "roles": ["builder"]}}),
        managed_key_auth(),
    ],
)


@mcp.tool(can_access=require_auth)
def status() -> str:
    """The service status."""
    return "all green"
