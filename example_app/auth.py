"""How the example authenticates, chosen by environment variables.

* nothing set: no authentication (what the conformance suite needs);
* ``EXAMPLE_API_KEYS="key1=alice:admin,key2=bob:user"``: API keys sent in
  ``X-API-Key``;
* ``EXAMPLE_JWT_ISSUER`` and ``EXAMPLE_JWT_AUDIENCE``: bearer JWTs from that
  issuer, keys found through its discovery document.
"""

from __future__ import annotations

import os
import typing as t

from flask import g
from flask import jsonify

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import JWTVerifier
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import bearer_auth
from flask_mcp.auth import get_auth_session
from flask_mcp.auth import require_auth
from flask_mcp.auth import require_role
from flask_mcp.auth import require_scopes
from flask_mcp.auth import scopes_of

SCOPES = ["data:read", "data:write"]


def settings_from_env() -> dict[str, t.Any]:
    """``authenticate=`` and ``oauth=`` for :class:`~flask_mcp.FlaskMCP`."""
    keys = os.environ.get("EXAMPLE_API_KEYS")
    issuer = os.environ.get("EXAMPLE_JWT_ISSUER")
    if keys:
        return {"authenticate": api_key_auth(parse_api_keys(keys))}
    if issuer:
        audience = os.environ["EXAMPLE_JWT_AUDIENCE"]
        return {
            "authenticate": bearer_auth(JWTVerifier(issuer=issuer, audience=audience)),
            "oauth": {
                "enabled": True,
                "protected_resource": {
                    "authorization_servers": [issuer],
                    "scopes_supported": SCOPES,
                },
            },
        }
    return {}


def parse_api_keys(spec: str) -> dict[str, dict[str, str]]:
    """``key1=alice:admin`` -> ``{"key1": {"sub": "alice", "role": "admin"}}``."""
    keys = {}
    for item in filter(None, (part.strip() for part in spec.split(","))):
        key, _, who = item.partition("=")
        subject, _, role = who.partition(":")
        if not key or not subject:
            raise ValueError(f"EXAMPLE_API_KEYS entry {item!r} is not key=subject:role")
        keys[key] = {"sub": subject, "role": role or "user"}
    return keys


def _subject(session: t.Any) -> str:
    session = get_auth_session(session)
    if isinstance(session, dict):
        return str(session.get("sub"))
    return str(session.subject)


def register(mcp: FlaskMCP) -> None:
    """Tools, a prompt, a resource and a route that need a signed-in user."""

    @mcp.tool(can_access=require_auth, read_only=True)
    def whoami(ctx: Context) -> str:
        """Return the subject of the signed-in user."""
        return _subject(ctx.session)

    @mcp.tool(can_access=require_role("admin"))
    def admin_only() -> str:
        """Something only administrators may do."""
        return "Welcome, admin!"

    @mcp.tool(can_access=require_scopes("data:read"), read_only=True)
    def read_data(ctx: Context) -> dict:
        """Read the user's data (needs the data:read scope)."""
        return {"owner": _subject(ctx.session), "items": ["alpha", "beta"]}

    @mcp.prompt(can_access=require_auth)
    def greeting(ctx: Context) -> str:
        """A greeting for the signed-in user."""
        return f"Say hello to {_subject(ctx.session)}."

    @mcp.resource(
        "data://me/profile",
        name="profile",
        mime_type="application/json",
        can_access=require_scopes("data:read"),
    )
    def profile(ctx: Context) -> dict:
        """The signed-in user's profile."""
        return {
            "subject": _subject(ctx.session),
            "scopes": sorted(scopes_of(ctx.session)),
        }

    @mcp.route("/api/me", methods=["GET"])
    def me() -> t.Any:
        """The auth session as JSON."""
        session = g.mcp_auth
        if not isinstance(session, dict):
            session = {
                "subject": session.subject,
                "scopes": sorted(session.scopes),
                "roles": sorted(session.roles),
                "email": session.email,
            }
        return jsonify(session)
