"""Ready-made ``authenticate(request)`` callables.

Each takes a werkzeug/Flask request (only ``.headers`` and ``.args`` are read)
and returns a session, ``None`` when the request carries no credential of its
kind (the caller answers 401 without an error code), or raises
:class:`~flask_mcp.auth.Unauthorized` for a credential that is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import typing as t
from collections.abc import Mapping

from flask_mcp.store import bind_store

from .errors import Unauthorized

if t.TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from flask_mcp.store import Store

#: ``authenticate(request) -> session | None``.
Authenticator = t.Callable[["Request"], t.Any]


@t.runtime_checkable
class TokenVerifier(t.Protocol):
    """Anything with ``verify(token) -> session``, such as
    :class:`~flask_mcp.auth.JWTVerifier` or
    :class:`~flask_mcp.auth.IntrospectionVerifier`."""

    def verify(self, token: str) -> t.Any: ...


#: b64token of RFC 6750 section 2.1.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


class BearerAuth:
    """Authenticate with an ``Authorization: Bearer`` token (:rfc:`6750#section-2.1`).

    Only the header is accepted. An ``access_token`` query parameter
    (:rfc:`6750#section-2.3`) makes the request fail with ``invalid_request``,
    even next to a valid header, so tokens never travel in URLs and logs.
    Form-encoded body tokens (:rfc:`6750#section-2.2`) are never read.

    :param verifier: an object with ``verify(token)``, or a plain callable;
        it returns the session or raises :class:`~flask_mcp.auth.AuthError`.

    :meth:`bind_store` hands the app's store to the verifier when it takes
    one (:class:`~flask_mcp.store.StoreBindable`), so a verifier made at
    import time caches keys and answers where every worker shares them.
    """

    def __init__(self, verifier: TokenVerifier | t.Callable[[str], t.Any]) -> None:
        self.verifier = verifier
        self._verify = (
            verifier.verify if isinstance(verifier, TokenVerifier) else verifier
        )

    def bind_store(self, store: Store) -> None:
        """Forward the app's ``store`` to the verifier, if it takes one."""
        bind_store(self.verifier, store)

    def __call__(self, request: Request) -> t.Any:
        if "access_token" in request.args:
            raise Unauthorized(
                "access tokens are accepted in the Authorization header only",
                error="invalid_request",
            )
        value = request.headers.get("Authorization")
        if value is None:
            return None
        if "," in value:
            # WSGI servers join repeated headers with commas.
            raise Unauthorized(
                "several Authorization credentials", error="invalid_request"
            )
        scheme, _, token = value.strip().partition(" ")
        if scheme.lower() != "bearer":
            return None  # another scheme: not a credential this authenticator reads
        token = token.strip()
        if not token:
            raise Unauthorized("the Bearer token is empty", error="invalid_request")
        if not _B64TOKEN.fullmatch(token):
            raise Unauthorized("the Bearer token is malformed", error="invalid_token")
        return self._verify(token)


def bearer_auth(verifier: TokenVerifier | t.Callable[[str], t.Any]) -> BearerAuth:
    """``authenticate`` reading Bearer tokens with ``verifier``: see
    :class:`BearerAuth`."""
    return BearerAuth(verifier)


def api_key_auth(
    keys: Mapping[str, t.Any],
    header: str = "X-API-Key",
) -> Authenticator:
    """Authenticate with a static API key sent in ``header``.

    The presented key is compared with *every* configured key by
    :func:`hmac.compare_digest` over SHA-256 digests (equal lengths), with no
    early exit, so timing reveals neither which key nor how much matched.

    :param keys: API key -> session, or -> callable taking the request and
        returning the session (for sessions built per request).
    :param header: the request header holding the key.
    """
    if not keys:
        raise ValueError("api_key_auth() needs at least one key")
    if not all(isinstance(key, str) and key for key in keys):
        raise ValueError("API keys must be non-empty strings")
    table = [(_digest(key), value) for key, value in keys.items()]

    def authenticate(request: Request) -> t.Any:
        presented = request.headers.get(header)
        if presented is None:
            return None
        digest = _digest(presented)
        found: t.Any = None
        matched = False
        for key_digest, value in table:
            if hmac.compare_digest(digest, key_digest):
                found, matched = value, True
        if not matched:
            raise Unauthorized("invalid API key", error="invalid_token")
        return found(request) if callable(found) else found

    # Clients seeing a Bearer challenge start an OAuth flow that cannot work
    # here: the challenge names the header the key goes in instead.
    authenticate.www_authenticate = f'ApiKey header="{header}"'  # type: ignore[attr-defined]
    return authenticate


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
