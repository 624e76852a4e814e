"""What the consent step needs: a browser identity, CSRF tokens, safe pages.

MCP clients register themselves, so an attacker can register one with their
own redirect URI and send a user its authorization link. Before any redirect
to the upstream provider, the user therefore approves each client once per
browser ("confused deputy", MCP security best practices; :rfc:`9700#section-4.15`).

* The browser is known by a random id in a signed cookie (``__Host-`` prefixed,
  ``Secure``, ``HttpOnly``, ``SameSite=Lax`` when the issuer is https).
* CSRF tokens are HMACs of (browser id, pending request id): a token from
  another browser or an earlier request does not fit.
* Pages are never framed (``X-Frame-Options: DENY``, CSP ``frame-ancestors
  'none'``), never cached, and leak no referrer.
"""

from __future__ import annotations

import base64
import hmac
import re
import secrets
import typing as t
from collections.abc import Iterable

from flask import Response
from flask import render_template
from werkzeug.wrappers import Response as BaseResponse

from .records import Approval
from .redirects import redirect_uri_matches

#: Seconds the browser cookie lives (the most browsers keep a cookie).
COOKIE_MAX_AGE = 400 * 86400
#: Response headers of every HTML page of the proxy.
PAGE_HEADERS = {
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:;"
        " frame-ancestors 'none'; base-uri 'none'"
    ),
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
}
_ID = re.compile(r"[A-Za-z0-9_-]{32,64}")


class BrowserCookie:
    """The signed browser id cookie, and CSRF tokens bound to it.

    :param name: the proxy's name, part of the cookie name.
    :param secure: ``__Host-`` prefix and ``Secure`` (https issuers).
        NOTE: on plain-http loopback development servers neither applies,
        since browsers drop ``Secure`` cookies there.
    :param key: HMAC key for the cookie signature and CSRF tokens.
    """

    def __init__(self, name: str, *, secure: bool, key: bytes) -> None:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", name) + "-oauth-browser"
        self.cookie_name = f"__Host-{base}" if secure else base
        self.secure = secure
        self._key = key

    def _mac(self, message: str) -> str:
        digest = hmac.new(self._key, message.encode(), "sha256").digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")

    def read(self, cookies: t.Mapping[str, str]) -> str | None:
        """The browser id of a request, if its cookie is there and genuine."""
        browser, _, mac = cookies.get(self.cookie_name, "").partition(".")
        if not _ID.fullmatch(browser):
            return None
        if not hmac.compare_digest(mac, self._mac(f"browser:{browser}")):
            return None
        return browser

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(32)

    def set(self, response: BaseResponse, browser: str) -> None:
        response.set_cookie(
            self.cookie_name,
            f"{browser}.{self._mac(f'browser:{browser}')}",
            max_age=COOKIE_MAX_AGE,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="Lax",
        )

    def csrf_token(self, browser: str, purpose: str) -> str:
        return self._mac(f"csrf:{browser}:{purpose}")

    def check_csrf(self, browser: str, purpose: str, token: t.Any) -> bool:
        if not isinstance(token, str) or not token:
            return False
        expected = self.csrf_token(browser, purpose)
        # As bytes: compare_digest refuses str with non-ASCII characters.
        return hmac.compare_digest(token.encode(), expected.encode())


def approves_redirect(approval: Approval | None, redirect_uri: str) -> bool:
    """Whether an approval names ``redirect_uri`` (a loopback one on any
    port, as native clients pick a new port each time, :rfc:`8252#section-7.3`)."""
    return approval is not None and any(
        redirect_uri_matches(uri, redirect_uri) for uri in approval.redirect_uris
    )


def approval_covers(
    approval: Approval | None, scopes: Iterable[str], redirect_uri: str
) -> bool:
    """Whether a remembered approval covers this request: a redirect URI
    approved before and no scope beyond those approved."""
    return (
        approval is not None
        and approves_redirect(approval, redirect_uri)
        and set(scopes) <= set(approval.scopes)
    )


def render_page(template: str, status: int = 200, **context: t.Any) -> Response:
    """An HTML page of the proxy, with the anti-framing and no-cache headers."""
    response = Response(
        render_template(template, **context), status, mimetype="text/html"
    )
    response.headers.update(PAGE_HEADERS)
    return response


def error_page(status: int, error: str, description: str) -> Response:
    """A refusal shown to the user, never a redirect: the request did not
    prove where it may be sent (:rfc:`6749#section-4.1.2.1`)."""
    return render_page(
        "flask_mcp/oauth_error.html", status, error=error, description=description
    )
