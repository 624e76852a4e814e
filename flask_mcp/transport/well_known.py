"""Discovery documents: RFC 9728 protected resource and RFC 8414 server metadata.

They are public, cacheable and readable from browser-based clients (CORS),
and live where the RFCs' path-insertion rules say clients will look.
"""

from __future__ import annotations

import functools
import logging
import typing as t
from urllib.parse import urlsplit

from flask import Blueprint
from flask import abort
from flask import request
from werkzeug.wrappers import Response

from ..auth.metadata import OAuthSettings
from ..config import Settings
from .checks import refused_host
from .responses import json_response
from .urls import ServerUrls

log = logging.getLogger(__name__)

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
        _authorization_server_routes(bp, server)
    return bp


def _authorization_server_routes(bp: Blueprint, server: t.Mapping[str, t.Any]) -> None:
    """Serve the :rfc:`8414` document wherever MCP clients look for it.

    Clients derive the URLs from the issuer: ``/.well-known/
    oauth-authorization-server{path}`` (RFC 8414), and for OpenID providers
    ``/.well-known/openid-configuration{path}`` and ``{path}/.well-known/
    openid-configuration``. A document is found where the request, with the
    prefix the app is mounted under (its script root), names the issuer's
    path: behind a front proxy that maps ``/.well-known/
    oauth-authorization-server/prefix`` to this app's
    ``/.well-known/oauth-authorization-server`` (with ``X-Forwarded-Prefix``)
    the RFC 8414 URL works under a prefix too.

    The OpenID forms are served only for a complete OpenID Provider
    configuration (:data:`OIDC_REQUIRED`): a client that reads one
    validates it as such, and refuses an authorization server's document
    there (the OAuth proxy's is not an OpenID Provider's).
    """
    issuer_path = urlsplit(str(server.get("issuer", ""))).path.rstrip("/")
    openid = all(field in server for field in OIDC_REQUIRED)

    def serve(document: str, rest: str = "") -> Response:
        found = request.script_root + ("/" + rest if rest else "") == issuer_path
        if found and document == "openid-configuration" and not openid:
            if request.script_root:
                _hint_prefix(request.script_root)
            found = False
        if not found:
            abort(404)
        return _public(server)

    rules = [
        ("/.well-known/oauth-authorization-server", "oauth-authorization-server"),
        (
            "/.well-known/oauth-authorization-server/<path:rest>",
            "oauth-authorization-server",
        ),
        ("/.well-known/openid-configuration/<path:rest>", "openid-configuration"),
        ("/.well-known/openid-configuration", "openid-configuration"),
        ("/<path:rest>/.well-known/openid-configuration", "openid-configuration"),
    ]
    for index, (rule, document) in enumerate(rules):
        view = functools.partial(serve, document)
        bp.add_url_rule(
            rule, f"authorization_server_{index}", view, methods=["GET", "OPTIONS"]
        )


#: What an OpenID Provider configuration must hold (OpenID Connect
#: Discovery 1.0, section 3; ``token_endpoint`` as every MCP flow needs it).
OIDC_REQUIRED = (
    "issuer",
    "authorization_endpoint",
    "token_endpoint",
    "jwks_uri",
    "response_types_supported",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
)

_hinted: set[str] = set()


def _hint_prefix(prefix: str) -> None:
    """Once per prefix and process: a client looked for the authorization
    server's document under the prefix, where only an OpenID Provider's
    would be; it is at the RFC 8414 URL, which lies outside the prefix."""
    if prefix in _hinted or len(_hinted) > 16:
        return
    _hinted.add(prefix)
    log.warning(
        "A client looked for the OAuth metadata at %s/.well-known/"
        "openid-configuration. Under a path prefix the authorization server's"
        " metadata is at /.well-known/oauth-authorization-server%s, outside the"
        " prefix: route that path to this app (see 'Behind a path prefix' in"
        " the discovery guide).",
        prefix,
        prefix,
    )


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
