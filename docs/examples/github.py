import os

import requests
from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import get_auth_session
from flask_mcp.auth import require_auth
from flask_mcp.auth.providers import GitHubProvider
from flask_mcp.auth.providers import GitHubSession

app = Flask(__name__)

mcp = FlaskMCP(
    app,
    name="Repositories",
    auth=GitHubProvider(
        base_url="https://mcp.example.com",
        client_id=os.environ["GITHUB_CLIENT_ID"],
        client_secret=os.environ["GITHUB_CLIENT_SECRET"],
        scopes=["read:user", "user:email", "repo"],
    ),
)


@mcp.tool(can_access=require_auth, read_only=True)
def my_repositories(ctx: Context) -> list[str]:
    """The signed-in user's repositories."""
    session = get_auth_session(ctx.session, GitHubSession)
    response = requests.get(
        "https://api.github.com/user/repos",
        headers={
            "Authorization": f"Bearer {session.access_token}",
            "Accept": "application/vnd.github+json",
        },
        timeout=10,
    )
    response.raise_for_status()
    return [f"{session.login}: {repo['full_name']}" for repo in response.json()]
