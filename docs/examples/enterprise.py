import os

from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import require_scopes
from flask_mcp.auth.providers import OIDCProvider
from flask_mcp.auth.proxy import EnterpriseIdP
from flask_mcp.auth.proxy import EnterpriseSession
from flask_mcp.auth.proxy import MachineSession
from flask_mcp.auth.proxy import OAuthProxy

app = Flask(__name__)

mcp = FlaskMCP(
    app,
    name="Ticket desk",
    auth=OAuthProxy(
        # People who connect a client themselves sign in here.
        OIDCProvider(
            issuer=os.environ["OIDC_ISSUER"],
            base_url="https://mcp.example.com",
            client_id=os.environ["OIDC_CLIENT_ID"],
            client_secret=os.environ["OIDC_CLIENT_SECRET"],
            display_name="Acme sign-in",
        ),
        scopes=["tickets:read", "tickets:write"],
        # Clients register with this token (machine clients must).
        registration_token=os.environ["MCP_REGISTRATION_TOKEN"],
        # The company's IdP decides which assistants may act for whom.
        enterprise_idps=[
            EnterpriseIdP(os.environ["ENTERPRISE_IDP"], scopes=("tickets:read",))
        ],
        # CI jobs and bots: the client credentials grant.
        client_credentials=True,
    ),
)


@mcp.tool(can_access=require_scopes("tickets:read"))
def whoami(ctx: Context) -> str:
    """Who is calling, and how they got in."""
    session = ctx.session
    if isinstance(session, EnterpriseSession):
        return f"{session.subject}, vouched for by {session.issuer}"
    if isinstance(session, MachineSession):
        return f"the machine client {session.client_id}"
    return f"{session.subject}, signed in at the provider"
