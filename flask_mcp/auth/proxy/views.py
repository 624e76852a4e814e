"""The proxy's blueprint: thin views over the per-app state.

=======================  ======  ==============================================
``/oauth/authorize``     GET     authorization endpoint (:rfc:`6749#section-3.1`)
``/oauth/consent``       GET     consent page / remembered approvals
``/oauth/consent``       POST    approve, deny, forget
``/oauth/callback``      GET     upstream redirect URI
``/oauth/token``         POST    token endpoint (:rfc:`6749#section-3.2`)
``/oauth/register``      POST    client registration (:rfc:`7591#section-3`)
``/oauth/revoke``        POST    token revocation (:rfc:`7009#section-2`)
``/oauth/jwks``          GET     our public keys (:rfc:`7517#section-5`)
=======================  ======  ==============================================

The token, registration, revocation and JWKS endpoints answer cross-origin
requests (browser-based MCP clients); they use no cookies, so ``*`` is safe.
"""

from __future__ import annotations

import os
import typing as t

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request
from werkzeug.wrappers import Response as BaseResponse

from .authorize import authorize
from .authorize import consent_decision
from .authorize import consent_page
from .callback import callback
from .state import get_state

__all__ = ["oauth_blueprint"]

#: ``flask_mcp/templates``: consent and error pages, overridable by the app.
TEMPLATES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "templates"
)
#: Endpoints browser-based clients call directly.
_CORS_ENDPOINTS = {"token", "register", "revoke", "jwks"}


def oauth_blueprint(blueprint: str, name: str) -> Blueprint:
    """The routes of the proxy ``name`` (its state key), as ``blueprint``."""
    bp = Blueprint(blueprint, __name__, template_folder=TEMPLATES)

    def state() -> t.Any:
        return get_state(name)

    @bp.get("/oauth/authorize", endpoint="authorize")
    def authorize_view() -> BaseResponse:
        return authorize(state())

    @bp.route("/oauth/consent", methods=["GET", "POST"], endpoint="consent")
    def consent_view() -> BaseResponse:
        if request.method == "POST":
            return consent_decision(state())
        return consent_page(state())

    @bp.get("/oauth/callback", endpoint="callback")
    def callback_view() -> Response:
        return callback(state())

    @bp.route("/oauth/token", methods=["POST", "OPTIONS"], endpoint="token")
    def token_view() -> Response:
        return t.cast(Response, state().server.create_token_response())

    @bp.route("/oauth/register", methods=["POST", "OPTIONS"], endpoint="register")
    def register_view() -> Response:
        return t.cast(
            Response, state().server.create_endpoint_response("client_registration")
        )

    @bp.route("/oauth/revoke", methods=["POST", "OPTIONS"], endpoint="revoke")
    def revoke_view() -> Response:
        return t.cast(Response, state().server.create_endpoint_response("revocation"))

    @bp.route("/oauth/jwks", methods=["GET", "OPTIONS"], endpoint="jwks")
    def jwks_view() -> Response:
        response = jsonify(state().keys.public_jwks())
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    @bp.before_request
    def preflight() -> Response | None:
        if request.method == "OPTIONS":
            return Response(status=204)
        return None

    @bp.after_request
    def headers(response: Response) -> Response:
        endpoint = (request.endpoint or "").rpartition(".")[2]
        if endpoint in _CORS_ENDPOINTS:
            response.headers["Access-Control-Allow-Origin"] = "*"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Allow-Headers"] = (
                "Authorization, Content-Type, MCP-Protocol-Version"
            )
        if endpoint != "jwks":
            response.headers.setdefault("Cache-Control", "no-store")
            response.headers.setdefault("Pragma", "no-cache")
            response.headers.setdefault("Referrer-Policy", "no-referrer")
        return response

    return bp
