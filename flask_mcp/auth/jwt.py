"""Verify JWT access tokens (:rfc:`9068`) against the issuer's published keys.

Signatures are checked with joserfc against the issuer's JWK Set
(:rfc:`7517#section-5`), found through its metadata (:rfc:`8414#section-3`,
falling back to OpenID Connect Discovery) and cached in the shared store.
Claims are checked as :rfc:`7519#section-4.1` and :rfc:`9068#section-4` ask;
``sub`` is required (:rfc:`9068#section-2.2`) unless configured otherwise.
"""

from __future__ import annotations

import logging
import time
import typing as t
from collections.abc import Iterable
from collections.abc import Sequence

from joserfc import jwt as jose_jwt
from joserfc.errors import ExpiredTokenError
from joserfc.errors import JoseError
from joserfc.errors import MissingClaimError
from joserfc.jws import extract_compact

from flask_mcp.store import StoreError

from .claims import ClaimNames
from .claims import TokenSession
from .claims import invalid_dates
from .discovery import DiscoveryDocumentCache
from .discovery import DiscoveryError
from .errors import Forbidden
from .errors import Unauthorized
from .jwks import KEY_TYPES
from .jwks import AllowListRegistry
from .jwks import JWKSet
from .jwks import discover_jwks_uri
from .jwks import forbidden_alg

if t.TYPE_CHECKING:
    from flask_mcp.store import Store

logger = logging.getLogger(__name__)

#: Asymmetric algorithms accepted unless told otherwise.
DEFAULT_ALGORITHMS: tuple[str, ...] = ("RS256", "ES256", "PS256", "EdDSA")


class JWTVerifier:
    """Verifies JWT access tokens and turns them into :class:`TokenSession`.

    :param issuer: the expected ``iss``, exactly.
    :param audience: the expected ``aud`` (your MCP server URL,
        :rfc:`8707`); a sequence accepts any of its values.
    :param jwks_uri: the JWK Set URL; by default read from the issuer's
        metadata (RFC 8414 path-inserted URL, then ``openid-configuration``).
    :param algorithms: allowed ``alg`` values; ``none`` and ``HS*`` are
        refused with :class:`ValueError`, and tokens using them always fail.
    :param leeway: seconds of clock skew tolerated for ``exp``, ``nbf``, ``iat``.
    :param claims: where subject, scopes, roles, e-mail and client id are.
    :param discovery: the document cache for metadata and the JWK Set; a new
        one over ``store`` by default.
    :param required_scopes: scopes every token must have; a valid token
        without them raises :class:`Forbidden` (``insufficient_scope``).
    :param store: store for the default ``discovery``; ``None``: the app's,
        once :meth:`bind_store` is called (``FlaskMCP.init_app`` does), and a
        private in-process one until then.
    :param jwks_refetch_interval: least seconds between two JWK Set refetches
        caused by an unknown ``kid`` (shared by every worker, see below).
    :param token_types: accepted ``typ`` header values (case-insensitive),
        e.g. ``("at+jwt", "application/at+jwt")``. NOTE: :rfc:`9068#section-4`
        asks for ``at+jwt``, but most providers issue ``JWT``, so by default
        any ``typ`` passes; the ``aud`` check keeps other tokens out.
    :param require_sub: refuse tokens without a subject (the ``subject``
        claim of ``claims``, ``sub`` by default), as :rfc:`9068#section-2.2`
        requires. ``False`` accepts them for issuers that omit it; each such
        token is then its own principal (:attr:`TokenSession.principal`), so
        no two callers ever share an MCP session.

    A token whose ``kid`` is not in the cached JWK Set triggers one refetch
    (the issuer may have rotated keys), at most once per
    ``jwks_refetch_interval`` for the whole deployment: the first worker to
    atomically ``add`` a marker key with that TTL to the store refetches,
    every other worker meanwhile reads the set it stored. A flood of tokens
    with random ``kid`` values therefore costs the issuer one request per
    interval.
    """

    def __init__(
        self,
        issuer: str,
        audience: str | Sequence[str],
        *,
        jwks_uri: str | None = None,
        algorithms: Iterable[str] = DEFAULT_ALGORITHMS,
        leeway: int = 30,
        claims: ClaimNames | None = None,
        discovery: DiscoveryDocumentCache | None = None,
        required_scopes: Iterable[str] = (),
        store: Store | None = None,
        jwks_refetch_interval: float = 30.0,
        token_types: Iterable[str] | None = None,
        cache_seconds: float = 60.0,
        require_sub: bool = True,
    ) -> None:
        algorithms = tuple(algorithms)
        refused = [alg for alg in algorithms if forbidden_alg(alg)]
        if refused:
            raise ValueError(
                f"JWTVerifier refuses algorithm(s) {refused}: use asymmetric keys"
            )
        unknown = [alg for alg in algorithms if alg not in KEY_TYPES]
        if unknown or not algorithms:
            raise ValueError(f"unsupported JWT algorithm(s): {unknown or 'none given'}")
        audiences = [audience] if isinstance(audience, str) else list(audience)
        if not issuer or not audiences or not all(audiences):
            raise ValueError("JWTVerifier needs an issuer and an audience")
        self.issuer = issuer
        self.audiences: tuple[str, ...] = tuple(audiences)
        self.algorithms = algorithms
        self.leeway = leeway
        self.claim_names = claims or ClaimNames()
        self.discovery = discovery or DiscoveryDocumentCache(store=store)
        self.required_scopes: tuple[str, ...] = tuple(required_scopes)
        self.jwks_refetch_interval = jwks_refetch_interval
        self.require_sub = require_sub
        self._jwks_uri = jwks_uri
        self._registry = AllowListRegistry(
            algorithms=algorithms, strict_check_header=False
        )
        self._keys = JWKSet(self.discovery, jwks_refetch_interval)
        self.token_types = (
            None
            if token_types is None
            else frozenset(typ.lower() for typ in token_types)
        )
        self._claims_registry = jose_jwt.JWTClaimsRegistry(
            leeway=self.leeway,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "values": list(self.audiences)},
            exp={"essential": True},
        )
        #: Seconds a verified token is remembered by this process (0: never).
        self.cache_seconds = cache_seconds
        self._verified: dict[str, tuple[TokenSession, float]] = {}

    def __call__(self, token: str) -> TokenSession:
        return self.verify(token)

    def bind_store(self, store: Store) -> None:
        """Cache the issuer's metadata and keys in the app's ``store``
        (:func:`flask_mcp.store.bind_store`); a ``store`` or ``discovery``
        given to the constructor keeps its own."""
        self.discovery.bind_store(store)

    def verify(self, token: str) -> TokenSession:
        """Check ``token`` and return its session.

        :raises Unauthorized: ``invalid_token`` for any problem with the token
            (or with fetching the issuer's keys); the description is safe to
            send, details go to the log.
        :raises Forbidden: when the token lacks ``required_scopes``.
        """
        remembered = self._verified.get(token)
        if remembered is not None and remembered[1] > time.time():
            session = remembered[0]
        else:
            session = self._verify_signed(token)
        missing = [s for s in self.required_scopes if s not in session.scopes]
        if missing:
            raise Forbidden(
                "the access token lacks required scopes", scopes=self.required_scopes
            )
        return session

    def _verify_signed(self, token: str) -> TokenSession:
        """Check signature and claims; remember the result for a short while.

        Checking a signature is most of what authentication costs. A token is
        never remembered past its ``exp``; it can outlive a key withdrawn from
        the JWK Set by ``cache_seconds``, as the JWK Set's own cache allows.
        """
        try:
            claims = self._verified_claims(token)
            subject = self.claim_names.lookup(claims, "subject") or ""
            if not isinstance(subject, str):  # older joserfc lets it by
                raise _Reject("the access token has invalid claims", "sub not a string")
            if self.require_sub and not subject:
                raise _Reject("the access token has no subject (sub)", "no subject")
            session = TokenSession.from_claims(
                claims, token=token, names=self.claim_names
            )
        except _Reject as reject:
            logger.info("JWT rejected: %s", reject.detail)
            raise Unauthorized(reject.public, error="invalid_token") from None
        except StoreError:
            raise  # the store is down, not the token bad: a 503, not a 401
        except Exception as error:  # a library error must not become a 500
            logger.info("JWT rejected: unexpected %s", type(error).__name__)
            logger.debug("JWT verification error", exc_info=True)
            raise Unauthorized(
                "the access token is invalid", error="invalid_token"
            ) from None
        if self.cache_seconds > 0 and session.expires_at is not None:
            if len(self._verified) >= _REMEMBERED_TOKENS:
                self._verified.clear()
            until = min(session.expires_at, time.time() + self.cache_seconds)
            self._verified[token] = (session, until)
        return session

    def _verified_claims(self, token: str) -> dict[str, t.Any]:
        if not isinstance(token, str) or token.count(".") != 2:
            raise _Reject("malformed token", "not a compact JWS")
        try:
            header = extract_compact(token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError) as error:
            raise _Reject("malformed token", f"unreadable header ({error})") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or forbidden_alg(alg) or alg not in self.algorithms:
            raise _Reject("token algorithm not accepted", f"alg {alg!r} is not allowed")
        typ = header.get("typ")
        if self.token_types is not None and (
            not isinstance(typ, str) or typ.lower() not in self.token_types
        ):
            raise _Reject("token type not accepted", f"typ {typ!r} is not accepted")
        kid = header.get("kid")
        if kid is not None and not isinstance(kid, str):
            raise _Reject("malformed token", "kid is not a string")
        decoded = self._decode(token, alg, kid)
        unusable = invalid_dates(decoded.claims)
        if unusable:
            raise _Reject(
                "the access token has invalid claims",
                f"{', '.join(unusable)} not a NumericDate in range",
            )
        try:
            self._claims_registry.validate(decoded.claims)
        except JoseError as error:
            raise _Reject(_claim_message(error), f"claims: {error}") from None
        return decoded.claims

    def _decode(self, token: str, alg: str, kid: str | None) -> jose_jwt.Token:
        try:
            candidates = self._keys.find(self.jwks_uri, alg, kid)
        except DiscoveryError as error:
            logger.warning("cannot get the signing keys of %s: %s", self.issuer, error)
            raise _Reject(
                "cannot verify tokens of this issuer now", str(error)
            ) from None
        if not candidates:
            raise _Reject("no key matches the token", f"no {alg} key with kid {kid!r}")
        for key in candidates:
            try:
                return jose_jwt.decode(token, key, registry=self._registry)
            except JoseError as error:
                last = error
        raise _Reject("invalid token signature", f"verification failed: {last}")

    @property
    def jwks_uri(self) -> str:
        """The JWK Set URL, found in the issuer's metadata on first use
        (then kept for the life of the process).

        :raises DiscoveryError: when the metadata cannot be had.
        """
        if self._jwks_uri is None:
            self._jwks_uri = discover_jwks_uri(self.issuer, self.discovery)
        return self._jwks_uri


_CLAIM_MESSAGES = {
    "iss": "the access token has an unexpected issuer",
    "aud": "the access token is not meant for this resource",
    "nbf": "the access token is not yet valid",
    "iat": "the access token was issued in the future",
}


def _claim_message(error: JoseError) -> str:
    if isinstance(error, ExpiredTokenError):
        return "the access token has expired"
    claim = getattr(error, "claim", "")
    if isinstance(error, MissingClaimError):
        return f"the access token lacks required claims ({claim})"
    return _CLAIM_MESSAGES.get(claim, "the access token has invalid claims")


#: How many verified tokens one process remembers before starting over.
_REMEMBERED_TOKENS = 4096


class _Reject(Exception):
    """Internal: a rejection with a public message and a detail for the log."""

    def __init__(self, public: str, detail: str) -> None:
        super().__init__(detail)
        self.public = public
        self.detail = detail
