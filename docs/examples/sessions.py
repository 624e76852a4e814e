from dataclasses import dataclass

from flask import Flask
from flask import g

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import get_auth_session
from flask_mcp.auth import require_auth
from flask_mcp.auth import roles_of
from flask_mcp.auth import scopes_of


@dataclass(frozen=True)
class User:
    id: int
    name: str
    scopes: tuple[str, ...] = ()
    role: str = "user"


USERS = {"token-ada": User(1, "Ada", ("notes:read", "notes:write"), "admin")}


def authenticate(request):
    token = request.headers.get("Authorization", "").removeprefix("Token ")
    return USERS.get(token)  # None: 401


app = Flask(__name__)
mcp = FlaskMCP(app, name="Notes", authenticate=authenticate)


@mcp.tool(can_access=require_auth)
def me(ctx: Context) -> dict:
    """The signed-in user."""
    user = get_auth_session(ctx.session, User)  # typed as User from here on
    return {
        "name": user.name,
        "scopes": sorted(scopes_of(user)),
        "roles": sorted(roles_of(user)),
        "same_object": g.mcp_auth is user,
    }


@mcp.tool
def greet(ctx: Context) -> str:
    """Greets anyone; only signed-in users get here on this server."""
    user = get_auth_session(ctx.session)
    return f"Hello, {user.name}!"
