"""The authorization endpoint (:rfc:`6749#section-3.1`) and the consent page.

``GET /oauth/authorize`` validates the request with authlib. A request that
does not prove its client and redirect URI gets a 400 page, never a redirect
(:rfc:`6749#section-4.1.2.1`). A later error is redirected to the client,
with ``state`` and ``iss`` (:rfc:`9207`), only if its redirect URI is
trusted; otherwise it gets the page too, for anyone can register a client
with any redirect URI and use this server as an open redirector
(:rfc:`9700#section-4.11.2`). A redirect URI is trusted when it matches
``redirect_uri_patterns``, when its client registered with the registration
token, or when this browser approved the client for it on the consent page.

A valid request goes to the consent page, unless this browser already
approved this client for these scopes and this redirect URI; only then does
the browser go to the upstream provider. A denial on the consent page is
redirected to the client: the user saw who it is.

For a client identified by its metadata document, the page shows the host
the document came from (verified: this server fetched it there) above the
name and logo the document claims, and warns when the redirect URI is on
loopback, where any program on the user's computer could listen
(MCP "Localhost Redirect URI Risks"). A host name in another script is
shown in both forms, Unicode and the ASCII the network uses, with a warning
(:mod:`.display`): ``аpple.com`` is not ``apple.com``.

The page names the MCP endpoint the client asks for, and approvals are
remembered per client *and* endpoint: one proxy may serve several endpoints,
and approving a client for ``/a/mcp`` says nothing about ``/b/mcp``. A
client is known by its ``client_id``: for one identified by its metadata
document, the document's URL.
"""

from __future__ import annotations

import logging
import re
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

from ..providers.provider import UpstreamError
from .consent import approval_covers
from .consent import approves_redirect
from .consent import error_page
from .consent import render_page
from .display import provider_display_name
from .display import shown_host
from .records import Approval
from .records import PendingAuthorization
from .redirects import is_loopback

if t.TYPE_CHECKING:
    from .proxy_state import ProxyAppState

log = logging.getLogger(__name__)

#: An origin safe to put in a Content-Security-Policy: a host name and port.
_ORIGIN = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?")
_EXPIRED = (
    "This authorization request has expired, was already answered or was"
    " started in another browser. Start again from your application."
)


def authorize(state: ProxyAppState) -> Response:
    """``GET /oauth/authorize``."""
    server = state.server
    browser = state.cookie.read(request.cookies)
    try:
        grant = server.get_consent_grant(end_user=None)
    except ValueError:
        # authlib refuses to quote a control character in an error description.
        return error_page(
            400, "invalid_request", "The request holds characters that are not allowed."
        )
    except OAuth2Error as error:
        client_id = request.args.get("client_id")
        if error.redirect_uri and redirect_trusted(
            state, browser, client_id, error.redirect_uri
        ):
            return server.authorization_error(error)
        return _error_page(error)
    oauth_request = grant.request
    client_id = oauth_request.client.client_id
    new_browser = browser is None
    browser = browser or state.cookie.new_id()
    pending = PendingAuthorization(
        params=request.args.to_dict(flat=True),
        client_id=client_id,
        redirect_uri=grant.redirect_uri,
        scope=oauth_request.scope or "",
        browser=browser,
        resource=server.resource_indicator.effective(
            server.resource_indicator.requested(oauth_request)
        ),
    )
    approval = (
        None
        if new_browser
        else state.storage.browser(browser).approval(client_id, pending.resource)
    )
    if approval_covers(
        approval, scope_to_list(pending.scope) or (), pending.redirect_uri
    ):
        response = _to_upstream(state, pending, 302)
    else:
        txn = secrets.token_urlsafe(32)
        state.storage.save_transaction(txn, pending)
        response = redirect(url_for(f"{state.blueprint}.consent", txn=txn))
    if new_browser:
        state.cookie.set(response, browser)
    return response


def _error_page(error: OAuth2Error) -> Response:
    """The page of an error that is not redirected; its status is 400, or
    429 / 503 (with ``Retry-After``) when metadata documents are fetched too
    often or the client's is being fetched."""
    status = error.status_code if error.status_code in (429, 503) else 400
    page = error_page(status, str(error.error), str(error.description or error.error))
    page.headers.extend(
        (name, value) for name, value in error.get_headers() if name == "Retry-After"
    )
    return page


def redirect_trusted(
    state: ProxyAppState, browser: str | None, client_id: t.Any, redirect_uri: str
) -> bool:
    """Whether errors may be redirected to ``redirect_uri`` of ``client_id``
    (the module's docstring says when)."""
    try:
        client = state.server.query_client(client_id)
    except OAuth2Error:  # a metadata document that cannot be used (now)
        return False
    if client is None:
        return False
    if client.vetted:
        return True
    if state.patterns is not None and any(
        pattern.matches(redirect_uri) for pattern in state.patterns
    ):
        return True
    if browser is None:
        return False
    # The redirect URI is the client's, whichever endpoint it was approved for.
    return any(
        approves_redirect(approval, redirect_uri)
        for approval in state.storage.browser(browser).of_client(client.client_id)
    )


def _to_upstream(
    state: ProxyAppState, pending: PendingAuthorization, status: int
) -> Response:
    """The redirect to the upstream provider, or, when its login cannot
    start (an unreachable discovery document), ``temporarily_unavailable``
    to the client, which the user approved."""
    try:
        return redirect(state.upstream.start(pending), status)
    except UpstreamError as error:
        log.warning(
            "%s: the login cannot start: the %s failed: %s",
            state.provider.name,
            error.call or "provider",
            error.error,
        )
        return state.server.authorization_error(
            OAuth2Error(
                "the upstream provider is unavailable",
                redirect_uri=pending.redirect_uri,
                state=pending.params.get("state"),
                error="temporarily_unavailable",
            )
        )


def consent_page(state: ProxyAppState) -> Response:
    """``GET /oauth/consent``: the decision page of one pending request, or
    (without ``txn``) this browser's remembered approvals."""
    browser = state.cookie.read(request.cookies)
    txn = request.args.get("txn")
    if not txn:
        approvals = state.storage.browser(browser).approvals if browser else {}
        return render_page(
            "flask_mcp/approvals.html",
            approvals=[a for a in approvals.values() if a.client_id],
            csrf_token=state.cookie.csrf_token(browser, "manage") if browser else "",
            provider=provider_display_name(state.provider),
            shown_host=shown_host,
        )
    pending = state.storage.transaction(txn)
    if pending is None or browser is None or pending.browser != browser:
        return error_page(400, "invalid_request", _EXPIRED)
    try:
        client = state.server.query_client(pending.client_id)
    except OAuth2Error as error:
        return _error_page(error)
    if client is None:
        return error_page(400, "invalid_client", "The application is not registered.")
    target = urlsplit(pending.redirect_uri)
    logo = _logo(client.metadata.get("logo_uri")) if client.document_host else None
    verified = shown_host(client.document_host) if client.document_host else None
    redirect_host = shown_host(target.netloc)
    response = render_page(
        "flask_mcp/consent.html",
        client_name=client.name,
        client_uri=client.metadata.get("client_uri"),
        client_id=client.client_id,
        verified_host=verified and verified.text,
        verified_host_ascii=verified and verified.ascii_if_different,
        logo_uri=logo and logo[0],
        loopback=is_loopback(target.hostname or ""),
        redirect_uri=pending.redirect_uri,
        redirect_host=redirect_host.text,
        redirect_host_ascii=redirect_host.ascii_if_different,
        resource=pending.resource or state.resources[0],
        scopes=scope_to_list(pending.scope) or [],
        provider=provider_display_name(state.provider),
        txn=txn,
        csrf_token=state.cookie.csrf_token(browser, f"txn:{txn}"),
    )
    if logo:  # the page may load the logo from its origin, nothing else
        policy = response.headers["Content-Security-Policy"]
        response.headers["Content-Security-Policy"] = policy.replace(
            "img-src 'self' data:", f"img-src 'self' data: {logo[1]}"
        )
    return response


def _logo(uri: t.Any) -> tuple[str, str] | None:
    """An https ``logo_uri`` and its origin, ``None`` for any other value."""
    if not isinstance(uri, str):
        return None
    parts = urlsplit(uri)
    if parts.scheme != "https" or not _ORIGIN.fullmatch(parts.netloc):
        return None
    return uri, f"https://{parts.netloc}"


def consent_decision(state: ProxyAppState) -> Response:
    """``POST /oauth/consent``: approve, deny, or forget an approval."""
    form = request.form
    browser = state.cookie.read(request.cookies)
    action = form.get("action")
    if action == "forget":
        if not browser or not state.cookie.check_csrf(
            browser, "manage", form.get("csrf_token")
        ):
            return _forged()
        # Without ``resource`` (a template of an older version): every
        # endpoint's approval of the client.
        state.storage.forget(
            browser, form.get("client_id", ""), form.get("resource") or None
        )
        return redirect(url_for(f"{state.blueprint}.consent"), 303)
    txn = form.get("txn", "")
    pending = state.storage.transaction(txn) if txn else None
    if pending is None or browser is None or pending.browser != browser:
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
        oauth_request = server.stored_request(pending.params)
        grant = server.get_authorization_grant(oauth_request)
        return t.cast(
            Response,
            server.create_authorization_response(oauth_request, None, grant),
        )
    if form.get("remember"):
        _remember(state, browser, pending)
    return _to_upstream(state, pending, 303)


def _remember(
    state: ProxyAppState, browser: str, pending: PendingAuthorization
) -> None:
    client_id = pending.client_id
    resource = pending.resource or state.resources[0]
    previous = state.storage.browser(browser).approval(client_id, resource)
    try:
        client = state.server.query_client(client_id)
    except OAuth2Error:  # the document expired and cannot be fetched again
        client = None
    state.storage.remember(
        browser,
        Approval(
            client_id=client_id,
            resource=resource,
            client_name=client.name if client else client_id,
            verified_host=client.document_host if client else None,
            scopes=tuple(
                sorted(
                    set(previous.scopes if previous else ())
                    | set(scope_to_list(pending.scope) or ())
                )
            ),
            redirect_uris=tuple(
                sorted(
                    set(previous.redirect_uris if previous else ())
                    | {pending.redirect_uri}
                )
            ),
            approved_at=int(time.time()),
        ),
    )


def _forged() -> Response:
    return error_page(
        403,
        "access_denied",
        "The form was not sent from this server's consent page (CSRF check failed).",
    )
