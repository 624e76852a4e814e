"""``GET /oauth/callback``: where the upstream provider sends the browser back.

The upstream ``state`` is single-use and lives 10 minutes (it is ``take``\\ n
from the store, so a replay finds nothing) and must come back to the browser
that started the login. The upstream code is redeemed server-side; the MCP
client then gets *our* code, bound to its own PKCE challenge. Upstream errors
are forwarded to the client's redirect URI with its ``state`` and our ``iss``.
"""

from __future__ import annotations

import logging
import re
import secrets
import time
import typing as t

from authlib.oauth2.rfc6749 import OAuth2Error
from flask import Response
from flask import request

from ... import signals
from ..providers.provider import UpstreamError
from .announce import announce
from .consent import error_page
from .models import GrantUser

if t.TYPE_CHECKING:
    from .proxy_state import ProxyAppState

log = logging.getLogger(__name__)

#: Upstream authorization errors passed on as they are; others become
#: ``server_error`` (they describe our client at the provider, not the MCP
#: client's request).
FORWARDED_ERRORS = frozenset({"access_denied", "temporarily_unavailable"})
#: Errors of an upstream call meaning the provider is down or failing:
#: ``temporarily_unavailable`` to the client, which may retry later.
UNAVAILABLE = frozenset({"temporarily_unavailable", "server_error"})
#: Characters allowed in ``error_description`` (RFC 6749 section 4.1.2.1).
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def callback(state: ProxyAppState) -> Response:
    """Finish the upstream leg and answer the MCP client's authorization request."""
    upstream_state = request.args.get("state")
    if not upstream_state:
        return error_page(400, "invalid_request", "The login response has no state.")
    leg = state.storage.take_leg(upstream_state)
    if leg is None:
        return error_page(
            400,
            "invalid_request",
            "This login is unknown, has expired or was already completed.",
        )
    pending = leg.pending
    if state.cookie.read(request.cookies) != pending.browser:
        return error_page(
            400, "access_denied", "This login was started in another browser."
        )
    server = state.server
    oauth_request = server.stored_request(pending.params)
    try:
        grant = server.get_authorization_grant(oauth_request)
    except OAuth2Error as error:  # pragma: no cover - validated at /authorize
        return error_page(400, str(error.error), str(error.description))

    def fail(error: str, description: str) -> Response:
        # The user approved the client (consent page) before going upstream:
        # its redirect URI is trusted.
        return server.authorization_error(
            OAuth2Error(
                _safe(description),
                redirect_uri=pending.redirect_uri,
                state=pending.params.get("state"),
                error=error,
            )
        )

    if "error" in request.args:
        upstream_error = request.args.get("error", "")
        text = request.args.get("error_description") or upstream_error
        if upstream_error in FORWARDED_ERRORS:
            return fail(upstream_error, f"upstream: {text}")
        return fail("server_error", f"upstream error {upstream_error}: {text}")
    code = request.args.get("code")
    if not code:
        return fail("server_error", "the upstream provider sent no code")
    try:
        upstream = state.upstream.login(code, leg.verifier)
    except UpstreamError as error:
        call = error.call or "provider"
        announce(
            signals.signed_in,
            subject=None,
            client_id=pending.client_id,
            outcome=error.error,
            provider=state.provider.name,
        )
        log.warning(
            "%s: the login failed at the %s: %s (%s)",
            state.provider.name,
            call,
            error.error,
            error.description,
        )
        if error.error in UNAVAILABLE:
            return fail(
                "temporarily_unavailable", f"the upstream {call} is unavailable"
            )
        if error.error == "access_denied":
            return fail("access_denied", f"upstream: {error.description or call}")
        return fail("server_error", f"the upstream {call} refused: {error.error}")
    user = GrantUser(
        subject=upstream.identity["sub"],
        grant_id=secrets.token_urlsafe(24),
        auth_time=int(time.time()),
        upstream=upstream,
    )
    announce(
        signals.signed_in,
        subject=user.subject,
        client_id=pending.client_id,
        grant_id=user.grant_id,
        provider=state.provider.name,
    )
    return t.cast(
        Response, server.create_authorization_response(oauth_request, user, grant)
    )


def _safe(text: str) -> str:
    return _UNSAFE.sub("?", text)[:300]
