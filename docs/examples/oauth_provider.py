import os

from flask import Flask

from flask_mcp import FlaskMCP
from flask_mcp.auth.providers import OAuthProvider

GITLAB = "https://gitlab.example.com"

app = Flask(__name__)

mcp = FlaskMCP(
    app,
    name="Code",
    auth=OAuthProvider(
        name="gitlab",
        base_url="https://mcp.example.com",
        client_id=os.environ["GITLAB_CLIENT_ID"],
        client_secret=os.environ["GITLAB_CLIENT_SECRET"],
        scopes=["read_user", "read_api"],
        authorize_url=f"{GITLAB}/oauth/authorize",
        token_url=f"{GITLAB}/oauth/token",
        userinfo_url=f"{GITLAB}/oauth/userinfo",
        revocation_url=f"{GITLAB}/oauth/revoke",
    ),
)
