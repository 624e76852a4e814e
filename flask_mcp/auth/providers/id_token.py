"""Verify OpenID Connect ID tokens (OpenID Connect Core 1.0, section 3.1.3.7).

The signature is checked against the issuer's JWK Set (:rfc:`7517#section-5`),
cached in the shared store by :class:`~flask_mcp.auth.JWKSet` and refetched
on key rotation; then ``iss``, ``aud`` (the client id), ``azp``, ``exp``,
``iat`` and, when one was sent, ``nonce``.
"""

from __future__ import annotations

import logging
import typing as t
from collections.abc import Callable
from collections.abc import Collection
from collections.abc import Iterable
from collections.abc import Mapping

from joserfc import jwt as jose_jwt
from joserfc.errors import JoseError
from joserfc.jws import JWSRegistry
from joserfc.jws import extract_compact

from ..discovery import DiscoveryDocumentCache
from ..discovery import DiscoveryError
from ..jwks import KEY_TYPES
from ..jwks import JWKSet
from ..jwks import forbidden_alg
from .provider import UpstreamError

logger = logging.getLogger(__name__)

#: Signature algorithms accepted for ID tokens unless told otherwise.
ID_TOKEN_ALGORITHMS: tuple[str, ...] = ("RS256", "PS256", "ES256")

#: The accepted issuers, given the token's (signature-checked) claims.
Issuers = Callable[[Mapping[str, t.Any]], Collection[str]]


class IDTokenVerifier:
    """Checks ID tokens of one provider.

    :param discovery: the document cache holding the JWK Set.
    :param algorithms: accepted ``alg`` values; ``none`` and ``HS*`` are
        refused with :class:`ValueError`.
    :param leeway: seconds of clock skew tolerated for ``exp`` and ``iat``.
    :param refetch_interval: least seconds between two JWK Set refetches
        caused by an unknown ``kid``.
    """

    def __init__(
        self,
        discovery: DiscoveryDocumentCache,
        *,
        algorithms: Iterable[str] = ID_TOKEN_ALGORITHMS,
        leeway: int = 60,
        refetch_interval: float = 30.0,
    ) -> None:
        self.algorithms = tuple(algorithms)
        bad = [a for a in self.algorithms if forbidden_alg(a) or a not in KEY_TYPES]
        if bad or not self.algorithms:
            raise ValueError(f"unusable ID token algorithm(s): {bad or 'none given'}")
        self.leeway = leeway
        self._keys = JWKSet(discovery, refetch_interval)
        self._registry = JWSRegistry(
            algorithms=list(self.algorithms), strict_check_header=False
        )

    def verify(
        self,
        id_token: str,
        *,
        jwks_uri: str,
        issuers: Issuers,
        audience: str,
        nonce: str | None = None,
    ) -> dict[str, t.Any]:
        """The claims of ``id_token`` once every check passed.

        :param issuers: the accepted ``iss`` values, computed from the claims
            (Microsoft's multi-tenant issuer depends on ``tid``).
        :param audience: the client id, which ``aud`` must contain.
        :param nonce: the nonce sent with the authorization request, if any.
        :raises UpstreamError: ``invalid_token`` when a check fails,
            ``temporarily_unavailable`` when the keys cannot be fetched.
        """
        claims = self._decode(id_token, jwks_uri)
        accepted = list(issuers(claims))
        if not accepted:
            raise _invalid("no issuer is accepted for these claims")
        options: dict[str, t.Any] = {
            "iss": {"essential": True, "values": accepted},
            "sub": {"essential": True},
            "aud": {"essential": True, "value": audience},
            "exp": {"essential": True},
            "iat": {"essential": True},
        }
        if nonce is not None:
            options["nonce"] = {"essential": True, "value": nonce}
        registry = jose_jwt.JWTClaimsRegistry(leeway=self.leeway, **options)
        try:
            registry.validate(claims)
        except JoseError as error:
            raise _invalid(str(error)) from None
        audiences = (
            claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        )
        if claims.get("azp", audience) != audience or (
            len(audiences) > 1 and "azp" not in claims
        ):
            raise _invalid("azp is not this client")
        return claims

    def access_token_claims(
        self,
        token: str,
        jwks_uri: str | None,
        issuers: Issuers,
        names: Collection[str],
    ) -> dict[str, t.Any]:
        """The claims ``names`` of an access token that is a JWT the provider
        signed (its signature and issuer checked, nothing else): for claims
        the provider puts only there (Keycloak's roles), never for deciding
        who the user is. ``{}`` for an opaque token or one that does not
        verify (logged)."""
        if not jwks_uri or not names or token.count(".") != 2:
            return {}
        try:
            claims = self._decode(token, jwks_uri)
        except UpstreamError as error:
            logger.warning("the access token's claims are unreadable: %s", error.error)
            return {}
        if claims.get("iss") not in issuers(claims):
            return {}
        return {name: value for name, value in claims.items() if name in names}

    def _decode(self, id_token: str, jwks_uri: str) -> dict[str, t.Any]:
        if not isinstance(id_token, str) or id_token.count(".") != 2:
            raise _invalid("not a compact JWS")
        try:
            header = extract_compact(id_token.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError):
            raise _invalid("unreadable header") from None
        alg, kid = header.get("alg"), header.get("kid")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise _invalid(f"alg {alg!r} is not accepted")
        if kid is not None and not isinstance(kid, str):
            raise _invalid("kid is not a string")
        try:
            keys = self._keys.find(jwks_uri, alg, kid)
        except DiscoveryError as error:
            logger.warning("the JWKS of the ID token failed: %s", error)
            raise UpstreamError(
                "temporarily_unavailable",
                "the provider's signing keys are unavailable",
                call="JWKS",
            ) from None
        for key in keys:
            try:
                return jose_jwt.decode(id_token, key, registry=self._registry).claims
            except JoseError:
                continue
        raise _invalid(f"no {alg} key with kid {kid!r} verifies the signature")


def _invalid(reason: str) -> UpstreamError:
    logger.info("ID token rejected: %s", reason)
    return UpstreamError(
        "invalid_token", f"the ID token is invalid ({reason})", call="ID token"
    )
