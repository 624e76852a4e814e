import os

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import require_auth
from flask_mcp.auth.providers import OIDCProvider

app = Flask(__name__)

mcp = FlaskMCP(
    app,
    name="Intranet",
    auth=OIDCProvider(
        # Keycloak: https://sso.example.com/realms/acme
        # Auth0: https://acme.eu.auth0.com/ (with the trailing slash)
        # Okta: https://acme.okta.com/oauth2/default
        issuer=os.environ["OIDC_ISSUER"],
        base_url="https://mcp.example.com",
        client_id=os.environ["OIDC_CLIENT_ID"],
        client_secret=os.environ["OIDC_CLIENT_SECRET"],
        scopes=["openid", "email", "profile", "offline_access"],
        fetch_userinfo=True,
    ),
)


@mcp.tool(can_access=require_auth)
def whoami(ctx: Context) -> str:
    """The signed-in user."""
    return ctx.session.email or ctx.session.subject
