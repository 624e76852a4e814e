"""What the consent step needs: a browser identity, CSRF tokens, safe pages.

MCP clients register themselves, so an attacker can register one with their
own redirect URI and send a user its authorization link. Before any redirect
to the upstream provider, the user therefore approves each client once per
browser ("confused deputy", MCP security best practices; :rfc:`9700#section-4.15`).

* The browser is known by a random id in a cookie signed with itsdangerous
  (``__Host-`` prefixed, ``Secure``, ``HttpOnly``, ``SameSite=Lax`` when the
  issuer is https).
* CSRF tokens are itsdangerous signatures of (browser id, pending request
  id), under another salt: a token from another browser or an earlier
  request does not fit, and a cookie signature is no CSRF token.
* Pages are never framed (``X-Frame-Options: DENY``, CSP ``frame-ancestors
  'none'``), never cached, and leak no referrer.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import typing as t
from collections.abc import Iterable

from flask import Response
from flask import render_template
from itsdangerous import BadSignature
from itsdangerous import Signer
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
    :param key: the secret both signers derive their keys from.
    """

    def __init__(self, name: str, *, secure: bool, key: bytes) -> None:
        base = re.sub(r"[^A-Za-z0-9_-]", "_", name) + "-oauth-browser"
        self.cookie_name = f"__Host-{base}" if secure else base
        self.secure = secure
        # One salt per use: a signature made for one never passes the other.
        self._cookie = Signer(
            key, salt="flask_mcp.browser", digest_method=hashlib.sha256
        )
        self._csrf = Signer(key, salt="flask_mcp.csrf", digest_method=hashlib.sha256)

    def read(self, cookies: t.Mapping[str, str]) -> str | None:
        """The browser id of a request, if its cookie is there and genuine."""
        value = cookies.get(self.cookie_name, "")
        try:
            browser = self._cookie.unsign(value).decode("ascii")
        except (BadSignature, UnicodeError):
            return None
        return browser if _ID.fullmatch(browser) else None

    @staticmethod
    def new_id() -> str:
        return secrets.token_urlsafe(32)

    def set(self, response: BaseResponse, browser: str) -> None:
        response.set_cookie(
            self.cookie_name,
            self._cookie.sign(browser).decode("ascii"),
            max_age=COOKIE_MAX_AGE,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="Lax",
        )

    def csrf_token(self, browser: str, purpose: str) -> str:
        return self._csrf.get_signature(f"{browser}:{purpose}").decode("ascii")

    def check_csrf(self, browser: str, purpose: str, token: t.Any) -> bool:
        """Whether ``token`` is this browser's for ``purpose`` (compared in
        constant time by itsdangerous)."""
        if not isinstance(token, str) or not token or not token.isascii():
            return False
        return self._csrf.verify_signature(f"{browser}:{purpose}", token)


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
