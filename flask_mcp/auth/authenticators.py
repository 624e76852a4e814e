"""Ready-made ``authenticate(request)`` callables, and their contracts.

Each takes a werkzeug/Flask request (only ``.headers`` and ``.args`` are read)
and returns a session, ``None`` when the request carries no credential of its
kind (the caller answers 401 without an error code), or raises
:class:`~flask_mcp.auth.Unauthorized` for a credential that is refused.

Besides being called, an ``authenticate`` function may declare the
challenge of its refusals (:class:`DeclaresChallenge`) and the name of its
way in (:class:`~flask_mcp.auth.principals.HasSource`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from flask_mcp.store import bind_store
from flask_mcp.store.binding import StoreSlot

from .errors import Unauthorized
from .keyring import KeyRing
from .keyring import ManagedKeySession

if t.TYPE_CHECKING:
    from werkzeug.wrappers import Request

    from flask_mcp.store import Store

#: ``authenticate(request) -> session | None``; may be ``async def``.
Authenticator = t.Callable[["Request"], t.Any]


@t.runtime_checkable
class DeclaresChallenge(t.Protocol):
    """An ``authenticate`` function that declares the challenge of its 401s.

    MCP clients that support OAuth take a ``Bearer`` challenge as an
    invitation to an OAuth flow; an API-key server names its own scheme
    and the header the key goes in instead (``'ApiKey header="X-API-Key"'``).
    A function that declares none gets ``Bearer``.
    """

    #: The ``WWW-Authenticate`` challenge, or several.
    www_authenticate: str | Sequence[str]


def challenges_of(authenticate: object) -> tuple[str, ...]:
    """The challenges ``authenticate`` declares (:class:`DeclaresChallenge`)."""
    if not isinstance(authenticate, DeclaresChallenge):
        return ()
    value = authenticate.www_authenticate
    values = (value,) if isinstance(value, str) else tuple(value)
    return tuple(dict.fromkeys(v for v in values if isinstance(v, str) and v))


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

    #: Its way in (:class:`~flask_mcp.auth.principals.HasSource`).
    source = "bearer"
    #: Its challenge (:class:`DeclaresChallenge`): next to other ways in, a
    #: 401 still offers Bearer tokens.
    www_authenticate = "Bearer"

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


class APIKeyAuth:
    """Authenticate with a static API key sent in ``header``.

    The presented key is compared with *every* configured key by
    :func:`hmac.compare_digest` over SHA-256 digests (equal lengths), with no
    early exit, so timing reveals neither which key nor how much matched.

    :param keys: API key -> session, or -> callable taking the request and
        returning the session (for sessions built per request).
    :param header: the request header holding the key.
    """

    def __init__(self, keys: Mapping[str, t.Any], header: str = "X-API-Key") -> None:
        if not keys:
            raise ValueError("api_key_auth() needs at least one key")
        if not all(isinstance(key, str) and key for key in keys):
            raise ValueError("API keys must be non-empty strings")
        self.header = header
        self._table = [(_digest(key), value) for key, value in keys.items()]
        #: Clients seeing a Bearer challenge start an OAuth flow that cannot
        #: work here: the challenge names the header the key goes in instead.
        self.www_authenticate = f'ApiKey header="{header}"'
        #: Its way in: keys read from another header are another source.
        self.source = f"api-key:{header}"

    def __call__(self, request: Request) -> t.Any:
        presented = request.headers.get(self.header)
        if presented is None:
            return None
        digest = _digest(presented)
        found: t.Any = None
        matched = False
        for key_digest, value in self._table:
            if hmac.compare_digest(digest, key_digest):
                found, matched = value, True
        if not matched:
            raise Unauthorized(
                "invalid API key", error="invalid_token", scheme=self.www_authenticate
            )
        return found(request) if callable(found) else found

    def __repr__(self) -> str:
        return f"api_key_auth(header={self.header!r})"


def api_key_auth(keys: Mapping[str, t.Any], header: str = "X-API-Key") -> APIKeyAuth:
    """``authenticate`` reading static API keys from ``header``: see
    :class:`APIKeyAuth`."""
    return APIKeyAuth(keys, header)


class ManagedKeyAuth:
    """Authenticate with a managed key (:class:`~flask_mcp.auth.KeyRing`) sent
    in ``header``: keys an operator creates and revokes with ``flask mcp
    keys``, each with its own roles, scopes and expiry.

    The session is a :class:`~flask_mcp.auth.ManagedKeySession`.
    Every request reads the key's record in the store, so a revoked key is
    refused on the next request, on every worker and host.

    :param header: the request header holding the key.
    :param store: where the keys are; ``None``: the store of the server it
        authenticates for (:meth:`bind_store`, called by ``init_app``).
    """

    def __init__(self, header: str = "X-API-Key", store: Store | None = None) -> None:
        self.header = header
        self._slot = StoreSlot(store)
        self._keyring: KeyRing | None = None
        self.www_authenticate = f'ApiKey header="{header}"'
        self.source = "managed-key"

    @property
    def keyring(self) -> KeyRing:
        store = self._slot.store
        if self._keyring is None or self._keyring.store is not store:
            self._keyring = KeyRing(store)
        return self._keyring

    def bind_store(self, store: Store) -> None:
        """Read the keys of the app's store (unless one was given)."""
        self._slot.bind(store)

    def __call__(self, request: Request) -> ManagedKeySession | None:
        presented = request.headers.get(self.header)
        if presented is None:
            return None
        session = self.keyring.check(presented.strip())
        if session is None:
            raise Unauthorized(
                "invalid, expired or revoked API key",
                error="invalid_token",
                scheme=self.www_authenticate,
            )
        return session

    def __repr__(self) -> str:
        return f"managed_key_auth(header={self.header!r})"


def managed_key_auth(
    header: str = "X-API-Key", store: Store | None = None
) -> ManagedKeyAuth:
    """``authenticate`` reading managed keys from ``header``: see
    :class:`ManagedKeyAuth`."""
    return ManagedKeyAuth(header, store)


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
