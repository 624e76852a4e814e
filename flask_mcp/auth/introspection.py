"""Verify opaque access tokens with OAuth 2.0 Token Introspection (:rfc:`7662`).

Answers for active tokens are cached (in the app's Flask-Caching cache when
it has one, else in the shared store; see :mod:`flask_mcp.store.cache`) under
a SHA-256 of the token (never the token itself), so every worker asks the
authorization server about one token at most once per ``cache_ttl``, and no
answer is trusted past its ``cache_ttl`` or its ``exp``.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import time
import typing as t
from collections.abc import Iterable
from collections.abc import Sequence
from urllib.parse import quote_plus

import requests

from flask_mcp.store import Store
from flask_mcp.store import StoreSlot

from .claims import ClaimNames
from .claims import TokenSession
from .claims import invalid_dates
from .claims import numeric_date
from .errors import Forbidden
from .errors import Unauthorized

logger = logging.getLogger(__name__)


class IntrospectionVerifier:
    """Asks the authorization server whether a token is active.

    :param endpoint: the introspection endpoint URL (:rfc:`7662#section-2`).
    :param client_id: this resource server's client id at the authorization
        server, sent with ``client_secret`` by HTTP Basic
        (:rfc:`6749#section-2.3.1`).
    :param client_secret: its secret.
    :param audience: when given, the response's ``aud`` (string or list) must
        contain it (or one of them, for a sequence); an answer without ``aud``
        is then refused, so tokens for other resources never pass.
    :param cache_ttl: seconds an active answer is reused; never past the
        token's ``exp``. ``0`` disables the cache. Inactive answers are not
        cached.
    :param store: where answers are cached. ``None``: the app's store, once
        :meth:`bind_store` is called (``FlaskMCP.init_app`` does), and a
        private in-process one until then.
    :param timeout: seconds for the connection and for each read.
    :param claims: where subject, scopes, roles, e-mail and client id are.
    :param required_scopes: scopes every token must have (else
        :class:`Forbidden`, ``insufficient_scope``).
    :param session: a :class:`requests.Session` to use.
    """

    def __init__(
        self,
        endpoint: str,
        client_id: str,
        client_secret: str,
        *,
        audience: str | Sequence[str] | None = None,
        cache_ttl: float = 60,
        store: Store | None = None,
        timeout: float = 5,
        claims: ClaimNames | None = None,
        required_scopes: Iterable[str] = (),
        session: requests.Session | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.client_id = client_id
        self.audiences: tuple[str, ...] = (
            ()
            if audience is None
            else (audience,)
            if isinstance(audience, str)
            else tuple(audience)
        )
        self.cache_ttl = cache_ttl
        self.timeout = timeout
        self.claim_names = claims or ClaimNames()
        self.required_scopes: tuple[str, ...] = tuple(required_scopes)
        self._slot = StoreSlot(store, owner=type(self).__name__)
        self._session = session or requests.Session()
        credentials = f"{quote_plus(client_id)}:{quote_plus(client_secret)}"
        self._authorization = "Basic " + base64.b64encode(credentials.encode()).decode()
        endpoint_hash = hashlib.sha256(endpoint.encode()).hexdigest()[:16]
        self._prefix = f"auth:introspection:{endpoint_hash}:"

    @property
    def store(self) -> Store:
        """The store in use now."""
        return self._slot.store

    def bind_store(self, store: Store) -> None:
        """Cache answers in the app's ``store`` (unless a store was given to
        the constructor); :func:`flask_mcp.store.bind_store` calls it."""
        self._slot.bind(store)

    def __call__(self, token: str) -> TokenSession:
        return self.verify(token)

    def cache_key(self, token: str) -> str:
        """The store key of ``token``'s answer: a SHA-256, never the token."""
        return self._prefix + hashlib.sha256(token.encode()).hexdigest()

    def verify(self, token: str) -> TokenSession:
        """Introspect ``token`` (or reuse a cached answer) and return its session.

        :raises Unauthorized: ``invalid_token`` when the token is not active,
            has expired, is for another audience, or the endpoint cannot answer.
        :raises Forbidden: when the token lacks ``required_scopes``.
        """
        if not isinstance(token, str) or not token:
            raise Unauthorized("the access token is empty", error="invalid_token")
        key = self.cache_key(token)
        answer = self._slot.cache.get(key) if self.cache_ttl > 0 else None
        if answer is None:
            answer = self._introspect(token)
            self._check_active(answer)  # before caching: inactive answers are not
            self._remember(key, answer)
        else:
            self._check_active(answer)  # it may have expired since it was cached
        self._check_audience(answer)
        session = TokenSession.from_claims(answer, token=token, names=self.claim_names)
        if not set(self.required_scopes) <= session.scopes:
            raise Forbidden(
                "the access token lacks required scopes", scopes=self.required_scopes
            )
        return session

    def _introspect(self, token: str) -> dict[str, t.Any]:
        try:
            response = self._session.post(
                self.endpoint,
                data={"token": token, "token_type_hint": "access_token"},
                headers={
                    "Authorization": self._authorization,
                    "Accept": "application/json",
                },
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            logger.warning("introspection at %s failed: %s", self.endpoint, error)
            raise _unavailable() from None
        if response.status_code != 200:
            logger.warning(
                "introspection at %s answered HTTP %s",
                self.endpoint,
                response.status_code,
            )
            raise _unavailable()
        try:
            answer = response.json()
        except ValueError:
            answer = None
        if not isinstance(answer, dict) or "active" not in answer:
            logger.warning("introspection at %s: not an RFC 7662 answer", self.endpoint)
            raise _unavailable()
        return answer

    def _check_active(self, answer: dict[str, t.Any]) -> None:
        now = time.time()
        exp, nbf = numeric_date(answer.get("exp")), numeric_date(answer.get("nbf"))
        if answer.get("active") is not True:
            reason = "the access token is not active"
        elif invalid_dates(answer):
            reason = "the access token has invalid claims"
        elif exp is not None and exp <= now:
            reason = "the access token has expired"
        elif nbf is not None and nbf > now:
            reason = "the access token is not yet valid"
        else:
            return
        logger.info("introspected token rejected: %s", reason)
        raise Unauthorized(reason, error="invalid_token")

    def _check_audience(self, answer: dict[str, t.Any]) -> None:
        if not self.audiences:
            return
        aud = answer.get("aud")
        listed = aud if isinstance(aud, list) else [aud]
        granted = {value for value in listed if isinstance(value, str)}
        if not granted & set(self.audiences):
            logger.info("introspected token rejected: audience %r", aud)
            raise Unauthorized(
                "the access token is not meant for this resource",
                error="invalid_token",
            )

    def _remember(self, key: str, answer: dict[str, t.Any]) -> None:
        ttl = self.cache_ttl
        exp = numeric_date(answer.get("exp"))
        if exp is not None:
            ttl = min(ttl, exp - time.time())
        if ttl > 0:
            self._slot.cache.set(key, answer, ttl)


def _unavailable() -> Unauthorized:
    return Unauthorized(
        "the access token cannot be verified now", error="invalid_token"
    )
