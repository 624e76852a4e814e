"""The keys that sign this server's access tokens (:rfc:`9068#section-2.1`).

Keys come from the ``signing_keys`` setting, as private JWKs
(:rfc:`7517#section-4`) or PEM strings; without one, an ES256 key is
generated once and kept in the instance folder. The first key signs; every
key is published at ``jwks_uri`` and accepted, so a rotation is: put the new
key first, keep the old one until the tokens it signed have expired.
"""

from __future__ import annotations

import json
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from joserfc.errors import JoseError
from joserfc.jwk import ECKey
from joserfc.jwk import JWKRegistry
from joserfc.jwk import Key
from joserfc.jwk import KeySet

from .keyfiles import read_or_create

#: Default ``alg`` by key type and curve.
_DEFAULT_ALGS = {
    ("RSA", None): "RS256",
    ("EC", "P-256"): "ES256",
    ("EC", "P-384"): "ES384",
    ("EC", "P-521"): "ES512",
    ("EC", "secp256k1"): "ES256K",
    # NOTE: "Ed25519" (RFC 9864), not the deprecated polymorphic "EdDSA".
    ("OKP", "Ed25519"): "Ed25519",
    ("OKP", "Ed448"): "Ed448",
}
_ALLOWED_ALGS = frozenset(_DEFAULT_ALGS.values()) | {
    "RS384",
    "RS512",
    "PS256",
    "PS384",
    "PS512",
}


class SigningKeys:
    """An ordered key ring: ``keys[0]`` signs, all verify.

    :param keys: private joserfc keys, each with a ``kid`` and an ``alg``.
    """

    def __init__(self, keys: Sequence[Key]) -> None:
        if not keys:
            raise ValueError("at least one signing key is needed")
        kids = [key.kid for key in keys]
        if len(set(kids)) != len(kids):
            raise ValueError(f"signing key ids must be unique: {kids}")
        self.keys: tuple[Key, ...] = tuple(keys)
        self._by_kid = {key.kid: key for key in keys}

    @classmethod
    def from_config(cls, values: Sequence[Mapping[str, t.Any] | str]) -> SigningKeys:
        """Parse private JWKs (mappings) and PEM strings, newest first.

        :raises ValueError: for a public, symmetric or unreadable key.
        """
        if isinstance(values, (str, Mapping)):
            values = [values]
        return cls([_import(value) for value in values])

    @classmethod
    def persisted(cls, path: str) -> SigningKeys:
        """The generated key set kept at ``path``, created on first use."""

        def create() -> bytes:
            key = ECKey.generate_key("P-256", private=True, auto_kid=True)
            jwk = key.as_dict(private=True) | {"alg": "ES256", "use": "sig"}
            return json.dumps({"keys": [jwk]}).encode()

        document = json.loads(read_or_create(path, create))
        return cls.from_config(document["keys"])

    @property
    def current(self) -> Key:
        """The key that signs new tokens."""
        return self.keys[0]

    @property
    def current_alg(self) -> str:
        return t.cast(str, self.current.alg)

    def signing_set(self) -> KeySet:
        """The current key alone; joserfc writes its ``kid`` into the header."""
        return KeySet([self.current])

    def find(self, kid: t.Any) -> Key | None:
        """The key with this ``kid``, or ``None``."""
        return self._by_kid.get(kid) if isinstance(kid, str) else None

    def public_jwks(self) -> dict[str, t.Any]:
        """The JWK Set published at ``jwks_uri`` (:rfc:`7517#section-5`)."""
        return {
            "keys": [
                key.as_dict(private=False) | {"use": "sig", "alg": key.alg}
                for key in self.keys
            ]
        }


def _import(value: Mapping[str, t.Any] | str) -> Key:
    key = _read_key(value)
    if not key.is_private:
        raise ValueError("signing keys must be private keys")
    crv = str(key.get("crv")) if key.key_type in ("EC", "OKP") else None
    alg = key.get("alg") or _DEFAULT_ALGS.get((key.key_type, crv))
    if alg == "EdDSA" and crv in ("Ed25519", "Ed448"):
        alg = crv  # the fully specified name of RFC 9864
    if alg not in _ALLOWED_ALGS:
        raise ValueError(f"unsupported signing key ({key.key_type} {crv} {alg})")
    data = key.as_dict(private=True)
    data["alg"] = alg
    data["kid"] = key.kid or key.thumbprint()
    return JWKRegistry.import_key(data)


def _read_key(value: Mapping[str, t.Any] | str) -> Key:
    if isinstance(value, Mapping):
        if value.get("kty") not in ("RSA", "EC", "OKP"):
            raise ValueError("signing keys must be RSA, EC or OKP JWKs")
        try:
            return JWKRegistry.import_key(dict(value))
        except (JoseError, ValueError, TypeError) as error:
            raise ValueError(f"unreadable signing JWK: {error}") from None
    if not isinstance(value, str):
        raise ValueError("a signing key is a JWK mapping or a PEM string")
    for key_type in ("RSA", "EC", "OKP"):
        try:
            return JWKRegistry.import_key(value, key_type)
        except (JoseError, ValueError, TypeError):
            continue
    raise ValueError("unreadable PEM signing key")
