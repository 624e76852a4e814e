"""The test issuer's signing keys: a JWK Set that rotates.

A rotated-in key signs from then on; the old one stays published (tokens it
signed still verify) until it is retired, as real issuers roll keys.
"""

from __future__ import annotations

import itertools
import threading
import typing as t

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jwk import KeySet
from joserfc.jwk import RSAKey

#: Curve of each EC algorithm.
_CURVES = {"ES256": "P-256", "ES384": "P-384"}
_ALGORITHMS = ["RS256", "PS256", "ES256", "ES384"]

Key = RSAKey | ECKey


class IssuerKeys:
    """Signing keys by ``kid``; the newest signs.

    :param alg: the first key's algorithm.
    """

    def __init__(self, alg: str = "RS256") -> None:
        self._lock = threading.Lock()
        self._serial = itertools.count(1)
        self._keys: dict[str, tuple[str, Key]] = {}
        self._signing = ""
        self.rotate(alg)

    @property
    def signing_kid(self) -> str:
        return self._signing

    def rotate(self, alg: str = "RS256", kid: str | None = None) -> str:
        """Add a key that signs from now on; its ``kid``."""
        kid = kid or f"test-{alg.lower()}-{next(self._serial)}"
        key: Key
        if alg in _CURVES:
            key = ECKey.generate_key(
                _CURVES[alg], {"kid": kid, "alg": alg, "use": "sig"}
            )
        else:
            key = RSAKey.generate_key(2048, {"kid": kid, "alg": alg, "use": "sig"})
        with self._lock:
            self._keys[kid] = (alg, key)
            self._signing = kid
        return kid

    def retire(self, kid: str) -> None:
        """Stop publishing ``kid`` (tokens it signed stop verifying)."""
        with self._lock:
            if kid == self._signing:
                raise ValueError(
                    "rotate another key in before retiring the signing key"
                )
            del self._keys[kid]

    def jwks(self) -> dict[str, t.Any]:
        """The public JWK Set."""
        with self._lock:
            keys = [key.as_dict(private=False) for _, key in self._keys.values()]
        return {"keys": keys}

    def sign(
        self,
        claims: dict[str, t.Any],
        header: dict[str, t.Any] | None = None,
        kid: str | None = None,
    ) -> str:
        """A compact JWS of ``claims``; ``header`` entries override the
        defaults (``alg`` of the key, its ``kid``, ``typ: JWT``)."""
        with self._lock:
            kid = kid or self._signing
            alg, key = self._keys[kid]
        full = {"alg": alg, "kid": kid, "typ": "JWT", **(header or {})}
        full = {name: value for name, value in full.items() if value is not None}
        return jwt.encode(full, claims, key, algorithms=[full["alg"]])

    def verify(self, token: str) -> dict[str, t.Any] | None:
        """The claims of a token one of the published keys signed, else ``None``
        (expiry is the caller's business)."""
        with self._lock:
            keyset = KeySet([key for _, key in self._keys.values()])
        try:
            return dict(jwt.decode(token, keyset, algorithms=_ALGORITHMS).claims)
        except (JoseError, ValueError):
            return None
