"""How the example authenticates, chosen by environment variables.

* nothing set: no authentication (what the conformance suite needs);
* ``EXAMPLE_API_KEYS="key1=alice:admin,key2=bob:user"``: API keys sent in
  ``X-API-Key``;
* ``EXAMPLE_JWT_ISSUER`` and ``EXAMPLE_JWT_AUDIENCE``: bearer JWTs from that
  issuer, keys found through its discovery document;
* ``EXAMPLE_MANAGED_KEYS=1``: managed keys (``flask mcp keys create``) in
  ``X-API-Key``, next to the static ones when both are set;
* ``EXAMPLE_OIDC_ISSUER``, ``EXAMPLE_OIDC_CLIENT_ID``,
  ``EXAMPLE_OIDC_CLIENT_SECRET`` and ``EXAMPLE_BASE_URL``: the OAuth proxy in
  front of that OIDC issuer; ``GOOGLE_CLIENT_ID``/``GOOGLE_CLIENT_SECRET``: in
  front of Google. Clients may identify themselves by the https URL of their
  metadata document (Client ID Metadata Documents); for local testing,
  ``EXAMPLE_CIMD_ALLOW_HOSTS="localhost,127.0.0.1"`` (comma-separated host
  names or addresses) lets the proxy fetch documents from those non-public
  hosts (the other ``MCP_OAUTH_CIMD_*`` settings then keep their defaults).
  With ``EXAMPLE_IDJAG_ISSUER`` (an enterprise IdP's issuer URL, its keys
  found through its discovery document) the proxy also trades that IdP's
  ID-JAGs for tokens (enterprise-managed authorization, the JWT bearer
  grant); confidential clients register for it (``grant_types`` naming
  ``urn:ietf:params:oauth:grant-type:jwt-bearer``).

API keys (static or managed) combine with the OAuth proxy or the bearer JWTs
on the one ``/mcp`` endpoint: OAuth clients sign in, scripts send a key.
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
from flask_mcp.auth import managed_key_auth
from flask_mcp.auth import require_auth
from flask_mcp.auth import require_role
from flask_mcp.auth import require_scopes
from flask_mcp.auth import roles_of
from flask_mcp.auth import scopes_of
from flask_mcp.auth.providers import GoogleProvider
from flask_mcp.auth.providers import OIDCProvider
from flask_mcp.auth.providers import Provider
from flask_mcp.auth.proxy import CIMDOptions
from flask_mcp.auth.proxy import OAuthProxy

SCOPES = ["data:read", "data:write"]


def settings_from_env() -> dict[str, t.Any]:
    """``authenticate=`` and ``oauth=`` for :class:`~flask_mcp.FlaskMCP`."""
    keys = _key_ways()
    issuer = os.environ.get("EXAMPLE_JWT_ISSUER")
    provider = _upstream_provider()
    if provider is not None:
        proxy = OAuthProxy(
            provider,
            scopes=SCOPES,
            cimd=_cimd_options(),
            enterprise_idps=_enterprise_idps(),
        )
        return {"auth": proxy, **({"authenticate": keys} if keys else {})}
    if issuer:
        audience = os.environ["EXAMPLE_JWT_AUDIENCE"]
        verifier = JWTVerifier(issuer=issuer, audience=audience)
        return {
            "authenticate": [bearer_auth(verifier), *keys],
            "oauth": {
                "enabled": True,
                "protected_resource": {
                    "authorization_servers": [issuer],
                    "scopes_supported": SCOPES,
                },
            },
        }
    if keys:
        return {"authenticate": keys}
    return {}


def _key_ways() -> list[t.Any]:
    """Static keys of ``EXAMPLE_API_KEYS``, managed keys if
    ``EXAMPLE_MANAGED_KEYS=1``; both read ``X-API-Key``."""
    ways: list[t.Any] = []
    if os.environ.get("EXAMPLE_API_KEYS"):
        ways.append(api_key_auth(parse_api_keys(os.environ["EXAMPLE_API_KEYS"])))
    if os.environ.get("EXAMPLE_MANAGED_KEYS") == "1":
        ways.append(managed_key_auth())
    return ways


def _upstream_provider() -> Provider | None:
    """The OAuth proxy's upstream: any OIDC issuer, or Google."""
    base_url = os.environ.get("EXAMPLE_BASE_URL", "http://127.0.0.1:8000")
    if os.environ.get("EXAMPLE_OIDC_ISSUER"):
        return OIDCProvider(
            issuer=os.environ["EXAMPLE_OIDC_ISSUER"],
            base_url=base_url,
            client_id=os.environ["EXAMPLE_OIDC_CLIENT_ID"],
            client_secret=os.environ["EXAMPLE_OIDC_CLIENT_SECRET"],
            fetch_userinfo=True,  # standard issuers keep email out of the ID token
        )
    if os.environ.get("GOOGLE_CLIENT_ID"):
        return GoogleProvider(
            base_url=base_url,
            client_id=os.environ["GOOGLE_CLIENT_ID"],
            client_secret=os.environ["GOOGLE_CLIENT_SECRET"],
        )
    return None


def _cimd_options() -> CIMDOptions | None:
    """``EXAMPLE_CIMD_ALLOW_HOSTS``, else ``None``: the app config's
    ``MCP_OAUTH_CIMD_*`` keys."""
    hosts = os.environ.get("EXAMPLE_CIMD_ALLOW_HOSTS", "").strip()
    return CIMDOptions(allow_hosts=tuple(hosts.split(","))) if hosts else None


def _enterprise_idps() -> list[str] | None:
    """``EXAMPLE_IDJAG_ISSUER``, else ``None``: ``MCP_OAUTH_ENTERPRISE_IDPS``."""
    issuer = os.environ.get("EXAMPLE_IDJAG_ISSUER", "").strip()
    return [issuer] if issuer else None


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


def _field(session: t.Any, name: str) -> t.Any:
    if isinstance(session, dict):
        return session.get(name)
    return getattr(session, name, None)


def _subject(session: t.Any) -> str:
    session = get_auth_session(session)
    if isinstance(session, dict):
        return str(session.get("sub"))
    return str(session.subject)


def register(mcp: FlaskMCP) -> None:
    """Tools, a prompt, a resource and a route that need a signed-in user."""

    @mcp.tool(can_access=require_auth, read_only=True)
    def whoami(ctx: Context) -> str:
        """Return the signed-in user's subject, and email when known."""
        email = _field(ctx.session, "email")
        subject = _subject(ctx.session)
        return f"{subject} <{email}>" if email else subject

    @mcp.tool(can_access=require_role("admin"))
    def admin_only() -> str:
        """Something only administrators may do."""
        return "Welcome, admin!"

    @mcp.tool(can_access=require_scopes("data:read"), read_only=True)
    def read_data(ctx: Context) -> dict[str, t.Any]:
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
    def profile(ctx: Context) -> dict[str, t.Any]:
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
                "scopes": sorted(scopes_of(session)),
                "roles": sorted(roles_of(session)),
                "email": _field(session, "email"),
            }
        return jsonify(session)
