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

Every request body is bounded (``OAuthLimits.max_body``): a larger one gets
413 with an OAuth error (JSON for the endpoints clients call, the error page
for those browsers see), and registrations are rate-limited per client
address (``OAuthLimits.registrations``): 429 with ``Retry-After``.
"""

from __future__ import annotations

import math
import os
import typing as t

from flask import Blueprint
from flask import Response
from flask import jsonify
from flask import request
from werkzeug.wrappers import Response as BaseResponse

from ...addresses import client_key
from ...store import StoreUnavailable
from .authorize import authorize
from .authorize import consent_decision
from .authorize import consent_page
from .callback import callback
from .consent import error_page
from .proxy_state import get_app_state

#: ``flask_mcp/templates``: consent and error pages, overridable by the app.
TEMPLATES = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(__file__))), "templates"
)
#: Endpoints browser-based clients call directly.
_CORS_ENDPOINTS = {"token", "register", "revoke", "jwks"}


def oauth_blueprint(blueprint: str) -> Blueprint:
    """The routes of the proxy on the current app, as ``blueprint``."""
    bp = Blueprint(blueprint, __name__, template_folder=TEMPLATES)
    state = get_app_state  # the proxy's state on the current app

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
        app_state = state()
        wait = app_state.registration_rate.hit(
            f"register:{client_key(request.remote_addr)}"
        )
        if wait is not None:
            response = oauth_error(
                429,
                "temporarily_unavailable",
                "too many registrations from this address; try again later",
            )
            response.headers["Retry-After"] = str(max(1, math.ceil(wait)))
            return response
        return t.cast(
            Response, app_state.server.create_endpoint_response("client_registration")
        )

    @bp.route("/oauth/revoke", methods=["POST", "OPTIONS"], endpoint="revoke")
    def revoke_view() -> Response:
        return t.cast(Response, state().server.create_endpoint_response("revocation"))

    @bp.route("/oauth/jwks", methods=["GET", "OPTIONS"], endpoint="jwks")
    def jwks_view() -> Response:
        response = jsonify(state().keys.public_jwks())
        response.headers["Cache-Control"] = "public, max-age=300"
        return response

    @bp.errorhandler(StoreUnavailable)
    def store_unavailable(error: StoreUnavailable) -> BaseResponse:
        # The store logged the outage once; browsers get the error page.
        description = "the server's shared store does not answer; try again"
        if _endpoint() in _CORS_ENDPOINTS:
            response: BaseResponse = oauth_error(
                503, "temporarily_unavailable", description
            )
        else:
            response = error_page(503, "temporarily_unavailable", description)
        response.headers["Retry-After"] = "2"
        return response

    @bp.before_request
    def preflight() -> Response | None:
        if request.method == "OPTIONS":
            return Response(status=204)
        return None

    @bp.before_request
    def bounded() -> BaseResponse | None:
        limit = state().limits.max_body
        if request.content_length is None:
            # A body without a length (chunked) is read now, one byte past
            # the limit at most (werkzeug stops there without an error).
            request.max_content_length = limit + 1
            if len(request.get_data(cache=True)) > limit:
                return too_large(limit)
        elif request.content_length > limit:
            return too_large(limit)
        return None

    @bp.after_request
    def headers(response: Response) -> Response:
        endpoint = _endpoint()
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


def oauth_error(status: int, error: str, description: str) -> Response:
    """An OAuth error answer in JSON (:rfc:`6749#section-5.2`)."""
    response = jsonify(error=error, error_description=description)
    response.status_code = status
    return response


def too_large(limit: int) -> BaseResponse:
    """413 for a body over ``limit``: JSON where clients call, a page where
    browsers come."""
    description = f"the request body is larger than {limit} bytes"
    if _endpoint() in _CORS_ENDPOINTS:
        return oauth_error(413, "invalid_request", description)
    return error_page(413, "invalid_request", description)


def _endpoint() -> str:
    return (request.endpoint or "").rpartition(".")[2]
