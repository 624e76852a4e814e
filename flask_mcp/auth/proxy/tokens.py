"""This server's own access tokens: JWTs of :rfc:`9068`, issued and checked.

Access tokens carry ``iss``, ``sub``, ``aud`` (the MCP endpoint, :rfc:`8707`),
``exp``, ``iat``, ``jti``, ``client_id``, ``scope`` and ``sid``, the id of the
grant (token family) they belong to, so that ending a grant ends its access
tokens too. Refresh tokens are opaque random strings.
"""

from __future__ import annotations

import secrets
import time
import typing as t
from collections.abc import Sequence

from authlib.oauth2.rfc6750.errors import InvalidTokenError
from authlib.oauth2.rfc9068 import JWTBearerTokenGenerator
from authlib.oauth2.rfc9068 import JWTBearerTokenValidator
from authlib.oauth2.rfc9068.claims import JWTAccessTokenClaims
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jws import extract_compact

from .keys import SigningKeys

#: ``typ`` values of :rfc:`9068#section-2.1`.
TOKEN_TYPES = ("at+jwt", "application/at+jwt")


class DecidedScope(str):
    """A scope a grant decided itself (an assertion's, a machine client's
    registration): issued as it is, even empty, never widened to the
    client's default scope as a request without ``scope`` would be."""


def _refresh_token(**kwargs: t.Any) -> str:
    return secrets.token_urlsafe(48)


class AccessTokenGenerator(JWTBearerTokenGenerator):
    """authlib's :rfc:`9068` generator, signing with our newest key.

    :param issuer: this server's issuer identifier.
    :param audiences: the MCP endpoints' URLs; a token is for the one its
        grant names (``user.resource``), else the first.
    :param ttl: access token lifetime in seconds.
    """

    def __init__(
        self, issuer: str, audiences: Sequence[str], keys: SigningKeys, ttl: int
    ) -> None:
        super().__init__(
            issuer,
            alg=keys.current_alg,
            refresh_token_generator=_refresh_token,
            expires_generator=ttl,
        )
        self.audiences = audiences
        self.keys = keys

    def get_jwks(self) -> KeySet:
        return self.keys.signing_set()

    def get_allowed_scope(self, client: t.Any, scope: t.Any) -> t.Any:
        if isinstance(scope, DecidedScope):
            return str(scope)
        return super().get_allowed_scope(client, scope)

    def access_token_generator(
        self, client: t.Any, grant_type: str, user: t.Any, scope: str
    ) -> str:
        """The claims of :rfc:`9068#section-2.2`, as authlib writes them.

        NOTE: authlib's version encodes with joserfc's default algorithms
        (RS256 and ES256 only); this one allows the algorithm of our key.
        """
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "exp": now + self._get_expires_in(client, grant_type),
            "client_id": client.get_client_id(),
            "iat": now,
            "jti": secrets.token_urlsafe(16),
            "scope": scope,
            "sub": str(user.get_user_id()),
            "aud": getattr(user, "resource", None) or self.audiences[0],
            "sid": user.grant_id,
        }
        if getattr(user, "auth_time", None):
            claims["auth_time"] = user.auth_time
        header = {"alg": self.alg, "typ": "at+jwt"}
        return jwt.encode(header, claims, self.get_jwks(), algorithms=[self.alg])


class AccessTokenValidator(JWTBearerTokenValidator):
    """authlib's :rfc:`9068#section-4` validator, stricter where MCP needs it:
    ``typ`` must be ``at+jwt``, the ``kid`` one of our keys and the ``alg``
    that key's; ``aud`` must name one of ``audiences``.

    :param audiences: the MCP endpoints whose tokens are accepted: the
        endpoint's own URL where tokens are used, every endpoint's where they
        are revoked.

    :meth:`verify` returns the claims or raises ``InvalidTokenError``.
    """

    def __init__(
        self, issuer: str, audiences: Sequence[str], keys: SigningKeys
    ) -> None:
        super().__init__(issuer=issuer, resource_server=audiences)
        self.audiences = audiences
        self.keys = keys

    def get_jwks(self) -> KeySet:
        return KeySet(list(self.keys.keys))

    def authenticate_token(self, token_string: str) -> JWTAccessTokenClaims:
        try:
            header = extract_compact(token_string.encode("ascii")).headers()
        except (JoseError, ValueError, UnicodeError):
            raise InvalidTokenError("the access token is malformed") from None
        typ = header.get("typ")
        if not isinstance(typ, str) or typ.lower() not in TOKEN_TYPES:
            raise InvalidTokenError("the access token is not an at+jwt")
        key = self.keys.find(header.get("kid"))
        if key is None or header.get("alg") != key.alg:
            raise InvalidTokenError("the access token was not signed by this server")
        try:
            token = jwt.decode(token_string, key, algorithms=[t.cast(str, key.alg)])
        except (JoseError, ValueError):
            raise InvalidTokenError("invalid access token signature") from None
        options: dict[str, t.Any] = {
            "iss": {"essential": True, "value": self.issuer},
            "aud": {"essential": True, "values": list(self.audiences)},
            **{
                name: {"essential": True}
                for name in ("exp", "iat", "sub", "jti", "client_id", "sid")
            },
        }
        return JWTAccessTokenClaims(token.claims, token.header, options)

    def verify(self, token_string: str) -> dict[str, t.Any]:
        """The claims of a valid token of ours for this resource.

        :raises InvalidTokenError: for any other token.
        """
        claims = self.authenticate_token(token_string)
        try:
            self.validate_token(claims, None, None)
        except InvalidTokenError:
            raise InvalidTokenError(
                "the access token is expired or not meant for this resource"
            ) from None
        return dict(claims)
