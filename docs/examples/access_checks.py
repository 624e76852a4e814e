from flask import Flask

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import require_all
from flask_mcp.auth import require_any
from flask_mcp.auth import require_auth
from flask_mcp.auth import require_role
from flask_mcp.auth import require_scopes

USERS = {
    "key-ada": {"sub": "ada", "role": "admin", "scope": "read:user write:data"},
    "key-bob": {"sub": "bob", "role": "moderator", "scope": "read:user"},
    "key-eve": {"sub": "eve", "role": "user", "scope": "", "tenant": "globex"},
}

app = Flask(__name__)
mcp = FlaskMCP(app, name="Access", authenticate=api_key_auth(USERS))


@mcp.tool(can_access=require_auth)
def user_tool() -> str:
    """Any signed-in user."""
    return "Authenticated!"


@mcp.tool(can_access=require_scopes("read:user", "write:data"))
def scoped_tool() -> str:
    """Needs both scopes."""
    return "Access granted!"


@mcp.tool(can_access=require_role("admin"))
def admin_tool() -> str:
    """Administrators only."""
    return "Welcome, admin!"


@mcp.tool(can_access=require_all(require_auth, require_role("admin")))
def admin_only() -> str:
    """Signed in AND an administrator."""
    return "Full access!"


@mcp.tool(can_access=require_any(require_role("admin"), require_role("moderator")))
def moderate() -> str:
    """Administrators OR moderators."""
    return "Moderated."


def same_tenant(session) -> bool:
    """A check of your own: any function of the session."""
    return session is not None and session.get("tenant", "acme") == "acme"


@mcp.resource("billing://invoices", can_access=same_tenant)
def invoices() -> list[dict]:
    """Invoices of the acme tenant."""
    return [{"number": 1, "total": 120}]


@mcp.prompt(can_access=require_role("admin", "moderator"))
def warn_user(name: str) -> str:
    """Draft a warning to a user."""
    return f"Write a polite warning to {name}."


@mcp.tool(can_access=require_scopes("write:data"), step_up=True)
def delete_data(ctx: Context) -> str:
    """Listed for everyone; callers without write:data are asked to step up."""
    return f"Deleted, {ctx.session['sub']}."
