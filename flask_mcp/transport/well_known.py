"""Discovery documents: RFC 9728 protected resource and RFC 8414 server metadata.

They are public, cacheable and readable from browser-based clients (CORS),
and live where the RFCs' path-insertion rules say clients will look.
"""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit

from flask import Blueprint
from werkzeug.wrappers import Response
from flask import request

from ..auth.metadata import OAuthSettings
from ..config import Settings
from .checks import refused_host
from .responses import json_response
from .urls import ServerUrls

#: Seconds clients and proxies may cache a discovery document.
MAX_AGE = 3600
#: Request headers the documents' URLs are built from (with ``ProxyFix``).
_VARY = "Host, X-Forwarded-Host, X-Forwarded-Proto, X-Forwarded-Prefix, Origin"


def well_known_blueprint(
    name: str, oauth: OAuthSettings, urls: ServerUrls, settings: Settings
) -> Blueprint:
    """Routes serving what ``oauth`` describes for the endpoint at ``urls.path``.

    The documents name URLs built from the request's ``Host``, so that header
    is checked as on the MCP endpoint (DNS rebinding) and caches are told the
    answer varies with it.
    """
    bp = Blueprint(name, __name__)
    mcp_path = urls.path

    @bp.before_request
    def check_host() -> Response | None:
        refused = refused_host(request, settings, check_origin=False)
        return (
            json_response(
                {"error": "invalid_request", "error_description": refused}, 403
            )
            if refused
            else None
        )

    def protected_resource() -> Response:
        return _public(oauth.protected_resource_document(urls.resource(request)))

    # RFC 9728 section 3.1: the root form and the path-inserted form.
    _routes(
        bp,
        "protected_resource",
        protected_resource,
        "",
        mcp_path,
        "oauth-protected-resource",
    )
    server = oauth.authorization_server_document()
    if server is not None:

        def authorization_server() -> Response:
            return _public(server)

        issuer_path = urlsplit(server.get("issuer", "")).path.rstrip("/")
        _routes(
            bp,
            "authorization_server",
            authorization_server,
            "",
            issuer_path,
            "oauth-authorization-server",
        )
        if (
            "openid" in server.get("scopes_supported", ())
            or "userinfo_endpoint" in server
        ):
            # OIDC Discovery appends to the issuer; RFC 8414 section 5 inserts.
            _routes(
                bp,
                "openid_configuration",
                authorization_server,
                issuer_path,
                issuer_path,
                "openid-configuration",
            )
    return bp


def _routes(
    bp: Blueprint,
    endpoint: str,
    view: t.Callable[[], Response],
    before: str,
    after: str,
    document: str,
) -> None:
    """Serve ``view`` at ``{before}/.well-known/{document}`` and at the
    path-inserted ``/.well-known/{document}{after}`` (one URL when they agree)."""
    paths = {f"{before}/.well-known/{document}", f"/.well-known/{document}{after}"}
    for index, path in enumerate(sorted(paths)):
        bp.add_url_rule(path, f"{endpoint}_{index}", view, methods=["GET", "OPTIONS"])


def _public(document: t.Mapping[str, t.Any]) -> Response:
    response = (
        json_response(dict(document))
        if request.method == "GET"
        else Response(status=204)
    )
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}"
    response.headers["Vary"] = _VARY
    return response
