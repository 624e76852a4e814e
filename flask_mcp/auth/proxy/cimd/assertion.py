"""``private_key_jwt`` (:rfc:`7523#section-2.2`, OpenID Connect Core 9): a
client identified by its metadata document that names this method proves
itself at the token and revocation endpoints with a JWT signed by one of the
keys its document publishes (``jwks`` or ``jwks_uri``).

authlib checks the assertion (signature, ``iss`` = ``sub`` = the client id,
``aud``, ``exp``); here: the audiences (the token endpoint's URL or the
issuer), one use of each ``jti`` across every worker, and a lifetime of at
most :data:`MAX_LIFETIME` (a ``jti`` is remembered that long).
"""

from __future__ import annotations

import time
import typing as t
from collections.abc import Callable

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from flask_mcp.store import Store

from ...hashing import digest
from ..models import Client

#: Most seconds between now and an assertion's ``exp``.
MAX_LIFETIME = 3600
#: The signature algorithms of assertions (asymmetric only: the client's
#: keys are public).
ASSERTION_ALGORITHMS = ("ES256", "RS256", "PS256", "EdDSA")


class PrivateKeyJWT(JWTBearerClientAssertion):
    """The ``private_key_jwt`` client authentication method.

    :param audiences: what an assertion's ``aud`` may name.
    :param store: remembers the ``jti`` of used assertions.
    :param keys: the public keys of a client.
    """

    CLIENT_AUTH_METHOD = "private_key_jwt"

    def __init__(
        self,
        *,
        audiences: list[str],
        store: Store,
        keys: Callable[[Client], KeySet],
    ) -> None:
        super().__init__()
        self.audiences = audiences
        self.store = store.child("jti:")
        self.keys = keys

    def get_audiences(self) -> list[str]:
        return self.audiences

    def resolve_client_public_key(self, client: Client) -> KeySet:
        return self.keys(client)

    def process_assertion_claims(self, assertion: str, resolve_key: t.Any) -> t.Any:
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGORITHMS)
        except JoseError as error:
            raise InvalidClientError(description=error.description) from error
        self.verify_claims(token.claims)
        return token.claims

    def verify_claims(self, claims: t.Any) -> None:
        expires = claims.get("exp")
        if isinstance(expires, (int, float)) and expires > time.time() + MAX_LIFETIME:
            raise InvalidClientError(
                description=f"the client assertion lives longer than {MAX_LIFETIME}s"
            )
        super().verify_claims(claims)

    def validate_jti(self, claims: t.Any, jti: t.Any) -> bool:
        ttl = max(1.0, float(claims["exp"]) - time.time() + self.leeway)
        key = f"{digest(str(claims['sub']))}:{digest(str(jti))}"
        return self.store.add(key, 1, ttl)
