from flask import Flask
from flask import g
from flask import jsonify

from flask_mcp import FlaskMCP
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import require_role

app = Flask(__name__)
mcp = FlaskMCP(
    app,
    name="Shop",
    authenticate=api_key_auth(
        {
            "key-ada": {"sub": "ada", "role": "admin"},
            "key-bob": {"sub": "bob", "role": "user"},
        }
    ),
)


@mcp.route("/api/me")
def me():
    """The caller, authenticated like the MCP endpoint."""
    return jsonify(g.mcp_auth)


@mcp.route(
    "/api/orders/<int:order_id>", methods=["DELETE"], can_access=require_role("admin")
)
def cancel_order(order_id: int):
    """Administrators only: others get 403."""
    return jsonify(cancelled=order_id)


@mcp.route("/health", public=True)
def health():
    """No authentication: for load balancers."""
    return {"status": "ok"}


@app.get("/reports/daily")
@mcp.protected(can_access=require_role("admin"))
def daily_report():
    """Any Flask view (here on the app itself) can be protected too."""
    return {"orders": 42, "by": g.mcp_auth["sub"]}
