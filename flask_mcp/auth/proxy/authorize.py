"""The authorization endpoint (:rfc:`6749#section-3.1`) and the consent page.

``GET /oauth/authorize`` validates the request with authlib. A request that
does not prove its client and redirect URI gets a 400 page, never a redirect
(:rfc:`6749#section-4.1.2.1`); any later error is redirected to the client
with ``state`` and ``iss`` (:rfc:`9207`). A valid request goes to the consent
page, unless this browser already approved this client for these scopes and
this redirect URI; only then does the browser go to the upstream provider.
"""

from __future__ import annotations

import secrets
import time
import typing as t
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749.util import scope_to_list
from flask import redirect
from flask import request
from flask import url_for
from werkzeug.wrappers import Response

from .consent import approval_covers
from .consent import error_page
from .consent import render_page

if t.TYPE_CHECKING:
    from .state import ProxyState

__all__ = ["authorize", "consent_decision", "consent_page"]

_EXPIRED = (
    "This authorization request has expired, was already answered or was"
    " started in another browser. Start again from your application."
)


def authorize(state: ProxyState) -> Response:
    """``GET /oauth/authorize``."""
    server = state.server
    try:
        grant = server.get_consent_grant(end_user=None)
    except OAuth2Error as error:
        if error.redirect_uri:
            return server.authorization_error(error)
        return error_page(400, str(error.error), str(error.description or error.error))
    oauth_request = grant.request
    browser = state.cookie.read(request.cookies)
    new_browser = browser is None
    browser = browser or state.cookie.new_id()
    pending = {
        "params": request.args.to_dict(flat=True),
        "client_id": oauth_request.client.client_id,
        "redirect_uri": grant.redirect_uri,
        "scope": oauth_request.scope or "",
        "browser": browser,
    }
    approval = (
        None
        if new_browser
        else state.storage.approvals(browser).get(oauth_request.client.client_id)
    )
    if approval_covers(
        approval, scope_to_list(pending["scope"]) or (), grant.redirect_uri
    ):
        response = redirect(state.upstream.start(pending))
    else:
        txn = secrets.token_urlsafe(32)
        state.storage.save_transaction(txn, pending)
        response = redirect(url_for(f"{state.blueprint}.consent", txn=txn))
    if new_browser:
        state.cookie.set(response, browser)
    return response


def consent_page(state: ProxyState) -> Response:
    """``GET /oauth/consent``: the decision page of one pending request, or
    (without ``txn``) this browser's remembered approvals."""
    browser = state.cookie.read(request.cookies)
    txn = request.args.get("txn")
    if not txn:
        approvals = state.storage.approvals(browser) if browser else {}
        return render_page(
            "flask_mcp/approvals.html",
            approvals=approvals,
            csrf_token=state.cookie.csrf_token(browser, "manage") if browser else "",
            provider=state.provider.name,
        )
    pending = state.storage.transaction(txn)
    if pending is None or browser is None or pending["browser"] != browser:
        return error_page(400, "invalid_request", _EXPIRED)
    client = state.server.query_client(pending["client_id"])
    if client is None:
        return error_page(400, "invalid_client", "The application is not registered.")
    redirect_uri = pending["redirect_uri"]
    return render_page(
        "flask_mcp/consent.html",
        client_name=client.name,
        client_uri=client.metadata.get("client_uri"),
        client_id=client.client_id,
        redirect_uri=redirect_uri,
        redirect_host=_host(redirect_uri),
        scopes=scope_to_list(pending["scope"]) or [],
        provider=state.provider.name,
        txn=txn,
        csrf_token=state.cookie.csrf_token(browser, f"txn:{txn}"),
    )


def consent_decision(state: ProxyState) -> Response:
    """``POST /oauth/consent``: approve, deny, or forget an approval."""
    form = request.form
    browser = state.cookie.read(request.cookies)
    action = form.get("action")
    if action == "forget":
        if not browser or not state.cookie.check_csrf(
            browser, "manage", form.get("csrf_token")
        ):
            return _forged()
        state.storage.forget(browser, form.get("client_id", ""))
        return redirect(url_for(f"{state.blueprint}.consent"), 303)
    txn = form.get("txn", "")
    pending = state.storage.transaction(txn) if txn else None
    if pending is None or browser is None or pending["browser"] != browser:
        return error_page(400, "invalid_request", _EXPIRED)
    if not state.cookie.check_csrf(browser, f"txn:{txn}", form.get("csrf_token")):
        return _forged()
    if action not in ("approve", "deny"):
        return error_page(400, "invalid_request", "Choose to allow or to deny.")
    pending = state.storage.take_transaction(txn)  # one answer per request
    if pending is None:
        return error_page(400, "invalid_request", _EXPIRED)
    server = state.server
    if action == "deny":
        oauth_request = server.stored_request(pending["params"])
        grant = server.get_authorization_grant(oauth_request)
        return t.cast(
            Response,
            server.create_authorization_response(oauth_request, None, grant),
        )
    if form.get("remember"):
        _remember(state, browser, pending)
    return redirect(state.upstream.start(pending), 303)


def _remember(state: ProxyState, browser: str, pending: dict[str, t.Any]) -> None:
    client_id = pending["client_id"]
    previous = state.storage.approvals(browser).get(client_id) or {}
    client = state.server.query_client(client_id)
    state.storage.remember(
        browser,
        client_id,
        {
            "client_name": client.name if client else client_id,
            "scopes": sorted(
                set(previous.get("scopes", ()))
                | set(scope_to_list(pending["scope"]) or ())
            ),
            "redirect_uris": sorted(
                set(previous.get("redirect_uris", ())) | {pending["redirect_uri"]}
            ),
            "approved_at": int(time.time()),
        },
    )


def _forged() -> Response:
    return error_page(
        403,
        "access_denied",
        "The form was not sent from this server's consent page (CSRF check failed).",
    )


def _host(uri: str) -> str:
    return urlsplit(uri).netloc
