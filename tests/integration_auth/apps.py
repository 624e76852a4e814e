"""The small app the auth integration tests serve (gunicorn or Flask's client).

``create_app()`` takes its settings as arguments, else from the environment,
so gunicorn can run ``tests.integration_auth.apps:create_app()`` with ``env=``:

* ``INTEGRATION_AUTH_INSTANCE``: instance folder (the file store lives there);
* ``INTEGRATION_AUTH_OAUTH``: ``snake`` (default), ``camel`` or ``off``, how
  the ``oauth=`` setting is written (``off``: no discovery documents);
* ``INTEGRATION_AUTH_ISSUER``: issuer of the authorization server metadata
  the app publishes (defaults to :data:`DEFAULT_ISSUER`);
* ``INTEGRATION_AUTH_COUNTER``: a file that gets one line per
  ``authenticate`` call: the ``X-Test-Tag`` header, method and path;
* ``INTEGRATION_AUTH_REVOKED``: a file listing revoked API keys, one a line,
  read on every request;
* ``INTEGRATION_AUTH_ANONYMOUS=1``: no ``authenticate`` at all.

Callers send ``X-API-Key`` (see :data:`SESSIONS`), or ``X-Test-Auth`` to
make ``authenticate`` refuse in one of the ways of :data:`REFUSALS`.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import typing as t

from flask import Flask
from flask import Response
from flask import abort
from flask import g
from flask import jsonify
from flask import request

from flask_mcp import Context
from flask_mcp import FlaskMCP
from flask_mcp.auth import AuthenticationRequired
from flask_mcp.auth import Forbidden
from flask_mcp.auth import Unauthorized
from flask_mcp.auth import api_key_auth
from flask_mcp.auth import require_all
from flask_mcp.auth import require_any
from flask_mcp.auth import require_auth
from flask_mcp.auth import require_role
from flask_mcp.auth import require_scopes

#: API key -> auth session. Scopes and roles are written in every form the
#: checks read (list, space-separated string, single ``role``).
SESSIONS: dict[str, dict[str, t.Any]] = {
    "key-alice": {"sub": "alice", "roles": ["admin"], "scopes": ["x:read", "x:write"]},
    "key-bob": {"sub": "bob", "role": "user", "scope": "x:read"},
    "key-bob-2": {"sub": "bob", "role": "user", "scope": "x:read"},
    "key-carol": {"sub": "carol", "roles": "editor", "scopes": ["x:write"]},
    "key-dave": {"sub": "dave"},
}
#: The principals of the access matrix (``anonymous``: the app without
#: ``authenticate``, where every check gets ``None``).
PRINCIPALS = ("alice", "bob", "carol", "dave", "anonymous")
KEYS = {
    "alice": "key-alice",
    "bob": "key-bob",
    "carol": "key-carol",
    "dave": "key-dave",
}

SCOPES = ["x:read", "x:write"]
DEFAULT_ISSUER = "https://auth.example.com/tenant-1"


def is_bob(session: t.Any) -> bool:
    """A plain callable check: not an AccessCheck, no ``required_scopes``."""
    return isinstance(session, dict) and session.get("sub") == "bob"


#: Name -> check; every check guards one component of each kind.
CHECKS: dict[str, t.Callable[[t.Any], bool]] = {
    "auth": require_auth,
    "read": require_scopes("x:read"),
    "readwrite": require_scopes("x:read", "x:write"),
    "admin": require_role("admin"),
    "staff": require_role("admin", "editor"),
    "all": require_all(require_scopes("x:read"), require_role("user")),
    "any": require_any(require_scopes("x:write"), require_role("admin")),
    "callable": is_bob,
    "nested": require_all(require_auth, require_any(require_role("admin"), is_bob)),
    "mixed": require_any(is_bob, require_scopes("x:write")),
}

#: Who each check lets in, written out by hand (not computed from CHECKS).
ALLOWED: dict[str, frozenset[str]] = {
    "auth": frozenset({"alice", "bob", "carol", "dave"}),
    "read": frozenset({"alice", "bob"}),
    "readwrite": frozenset({"alice"}),
    "admin": frozenset({"alice"}),
    "staff": frozenset({"alice", "carol"}),
    "all": frozenset({"bob"}),
    "any": frozenset({"alice", "carol"}),
    "callable": frozenset({"bob"}),
    "nested": frozenset({"alice", "bob"}),
    "mixed": frozenset({"alice", "bob", "carol"}),
}


def _raise(error: Exception) -> t.Callable[[], t.NoReturn]:
    def refuse() -> t.NoReturn:
        raise error

    return refuse


#: ``X-Test-Auth`` value -> what ``authenticate`` does instead of checking keys.
REFUSALS: dict[str, t.Callable[[], t.Any]] = {
    "none": lambda: None,
    "unauthorized": _raise(Unauthorized("custom refusal", error="invalid_token")),
    "unauthorized-bare": _raise(Unauthorized()),
    "forbidden": _raise(Forbidden("custom forbidden")),
    "abort-401": lambda: abort(401),
    "abort-403": lambda: abort(403),
    "abort-429": lambda: abort(429),
    "abort-response-401": lambda: abort(
        Response(
            '{"detail": "sign in"}',
            401,
            {"X-Why": "user-401"},
            mimetype="application/json",
        )
    ),
    "abort-response-403": lambda: abort(
        Response("<p>no</p>", 403, {"X-Why": "user-403"}, mimetype="text/html")
    ),
    "authentication-required": _raise(AuthenticationRequired()),
    # Mistakes: refusals returned instead of raised (test_integration_auth_odd.py).
    "return-false": lambda: False,
    "return-response-401": lambda: Response("sign in", 401),
    "return-view-tuple": lambda: ({"error": "no key"}, 401),
}


def as_async(fn: t.Callable[[t.Any], t.Any]) -> t.Callable[[t.Any], t.Any]:
    """The same check or authenticate, written ``async def`` (awaits once)."""

    async def wrapper(value: t.Any) -> t.Any:
        await asyncio.sleep(0)
        return fn(value)

    wrapper.__name__ = getattr(fn, "__name__", "wrapper")
    return wrapper


def make_authenticate(
    counter: str | None, revoked: str | None
) -> t.Callable[[t.Any], t.Any]:
    keys = api_key_auth(SESSIONS)

    def authenticate(req: t.Any) -> t.Any:
        if counter:
            tag = req.headers.get("X-Test-Tag", "-")
            with open(counter, "a", encoding="utf-8") as fh:
                fh.write(f"{tag} {req.method} {req.path}\n")
        mode = req.headers.get("X-Test-Auth")
        if mode is not None:
            return REFUSALS[mode]()
        key = req.headers.get("X-API-Key")
        if key is not None and revoked and os.path.exists(revoked):
            with open(revoked, encoding="utf-8") as fh:
                if key in {line.strip() for line in fh}:
                    raise Unauthorized("the API key was revoked", error="invalid_token")
        return keys(req)

    return authenticate


def oauth_setting(style: str, issuer: str) -> dict[str, t.Any] | None:
    """The ``oauth=`` setting in snake_case or camelCase (same meaning)."""
    if style == "off":
        return None
    if style == "snake":
        return {
            "enabled": True,
            "authorization_server": {
                "issuer": issuer,
                "authorization_endpoint": f"{issuer}/authorize",
                "token_endpoint": f"{issuer}/token",
                "jwks_uri": f"{issuer}/jwks",
                "response_types_supported": ["code"],
                "grant_types_supported": ["authorization_code", "refresh_token"],
                "code_challenge_methods_supported": ["S256"],
                "scopes_supported": ["openid", *SCOPES],
                # An OpenID Provider's: served as openid-configuration too.
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
            },
            "protected_resource": {
                "scopes_supported": SCOPES,
                "resource_name": "integration-auth",
            },
        }
    if style == "camel":
        return {
            "enabled": True,
            "authorizationServer": {
                "issuer": issuer,
                "authorizationEndpoint": f"{issuer}/authorize",
                "tokenEndpoint": f"{issuer}/token",
                "jwksUri": f"{issuer}/jwks",
                "responseTypesSupported": ["code"],
                "grantTypesSupported": ["authorization_code", "refresh_token"],
                "codeChallengeMethodsSupported": ["S256"],
                "scopesSupported": ["openid", *SCOPES],
                "subjectTypesSupported": ["public"],
                "idTokenSigningAlgValuesSupported": ["RS256"],
            },
            "protectedResource": {
                "scopesSupported": SCOPES,
                "resourceName": "integration-auth",
            },
        }
    raise ValueError(f"unknown oauth style {style!r}")


def create_app(
    *,
    instance_path: str | None = None,
    oauth: str | None = None,
    issuer: str | None = None,
    counter: str | None = None,
    revoked: str | None = None,
    anonymous: bool | None = None,
    asynchronous: bool | None = None,
) -> Flask:
    env = os.environ.get
    instance_path = (
        instance_path
        or env("INTEGRATION_AUTH_INSTANCE")
        or tempfile.mkdtemp(prefix="integration-auth-")
    )
    oauth = oauth or env("INTEGRATION_AUTH_OAUTH") or "snake"
    issuer = issuer or env("INTEGRATION_AUTH_ISSUER") or DEFAULT_ISSUER
    counter = counter or env("INTEGRATION_AUTH_COUNTER")
    revoked = revoked or env("INTEGRATION_AUTH_REVOKED")
    if anonymous is None:
        anonymous = env("INTEGRATION_AUTH_ANONYMOUS") == "1"
    if asynchronous is None:
        # Every check and authenticate itself as ``async def``.
        asynchronous = env("INTEGRATION_AUTH_ASYNC") == "1"
    wrap = as_async if asynchronous else (lambda fn: fn)

    app = Flask(__name__, instance_path=instance_path)
    app.config.update(MCP_STREAM_HOLD=0.2, MCP_MASK_ERRORS=False)
    mcp = FlaskMCP(
        name="integration-auth",
        authenticate=None if anonymous else wrap(make_authenticate(counter, revoked)),
        oauth=oauth_setting(oauth, issuer),
    )
    register_components(mcp, wrap)
    register_routes(mcp)
    mcp.init_app(app)
    register_app_routes(app, mcp)
    return app


def _subject(session: t.Any) -> str:
    return "anonymous" if session is None else str(session.get("sub"))


def register_components(
    mcp: FlaskMCP,
    wrap: t.Callable[[t.Callable[[t.Any], t.Any]], t.Callable[[t.Any], t.Any]],
) -> None:
    """One tool (plain and with a Context), resource, template and prompt per check,
    public ones, and the step-up tools."""
    for name, check in CHECKS.items():
        _register_set(mcp, name, wrap(check))
    _register_set(mcp, "public", None)

    @mcp.tool(can_access=require_scopes("x:write"), step_up=True)
    def write_x(ctx: Context) -> str:
        """Write something (needs x:write; listed to everyone)."""
        return f"WROTE by {_subject(ctx.session)}"

    @mcp.tool(
        can_access=require_all(require_scopes("x:read"), require_scopes("x:write")),
        step_up=True,
    )
    def write_rw() -> str:
        """Needs both scopes."""
        return "WROTE rw"


def _register_set(
    mcp: FlaskMCP, name: str, check: t.Callable[[t.Any], bool] | None
) -> None:
    def tool() -> str:
        return f"tool {name}"

    def ctx_tool(ctx: Context) -> str:
        return f"ctx tool {name} for {_subject(ctx.session)}"

    def resource() -> dict[str, str]:
        return {"resource": name}

    def template(item: str) -> dict[str, str]:
        return {"template": name, "item": item}

    def prompt(topic: str) -> str:
        return f"prompt {name} about {topic}"

    def ctx_prompt(ctx: Context) -> str:
        return f"prompt {name} for {_subject(ctx.session)}"

    described = f"Guarded by {name}."
    mcp.tool(f"tool_{name}", description=described, can_access=check)(tool)
    mcp.tool(f"ctxtool_{name}", description=described, can_access=check)(ctx_tool)
    mcp.resource(
        f"res://{name}",
        name=f"res_{name}",
        description=described,
        mime_type="application/json",
        can_access=check,
    )(resource)
    mcp.resource(
        f"tmpl://{name}/{{item}}",
        name=f"tmpl_{name}",
        description=described,
        mime_type="application/json",
        can_access=check,
    )(template)
    mcp.prompt(f"prompt_{name}", description=described, can_access=check)(prompt)
    mcp.prompt(f"ctxprompt_{name}", description=described, can_access=check)(ctx_prompt)

    def suggest(value: str, context: dict[str, str]) -> list[str]:
        return [f"{name}-1", f"{name}-2"]

    mcp.completion(argument="topic", prompt=f"prompt_{name}")(suggest)
    mcp.completion(argument="item", resource=f"tmpl://{name}/{{item}}")(suggest)


def _session_json() -> t.Any:
    return jsonify({"route": request.path, "session": g.mcp_auth})


def register_routes(mcp: FlaskMCP) -> None:
    """Routes on the extension's blueprint (``@mcp.route``)."""
    mcp.route("/api/me", methods=["GET"], endpoint="api_me")(_session_json)
    mcp.route(
        "/api/admin",
        methods=["GET"],
        endpoint="api_admin",
        can_access=require_role("admin"),
    )(_session_json)
    mcp.route(
        "/api/write",
        methods=["GET"],
        endpoint="api_write",
        can_access=require_scopes("x:write"),
    )(_session_json)

    @mcp.route("/api/public", methods=["GET"], public=True)
    def api_public() -> t.Any:
        return jsonify({"public": True, "has_auth": "mcp_auth" in g})


def register_app_routes(app: Flask, mcp: FlaskMCP) -> None:
    """Plain ``@app.route`` views guarded with ``@mcp.protected``."""

    @app.route("/plain/me")
    @mcp.protected
    def plain_me() -> t.Any:
        return _session_json()

    app.add_url_rule(
        "/plain/admin",
        "plain_admin",
        mcp.protected(can_access=require_role("admin"))(_session_json),
    )
    app.add_url_rule(
        "/plain/write",
        "plain_write",
        mcp.protected(can_access=require_scopes("x:write"))(_session_json),
    )
