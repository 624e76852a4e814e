"""An issuer's signing keys: JWK Set (:rfc:`7517#section-5`) lookup by ``kid``.

The JWK Set URL comes from the issuer's metadata (:rfc:`8414#section-3`, then
OpenID Connect Discovery); the set itself is cached in the shared store by a
:class:`~flask_mcp.auth.DiscoveryDocumentCache` and refetched, rate-limited,
when a token names a key it does not hold (key rotation).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import typing as t

from joserfc.errors import JoseError
from joserfc.errors import UnsupportedAlgorithmError
from joserfc.jwk import JWKRegistry
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry

from .discovery import DiscoveryDocumentCache
from .discovery import DiscoveryError
from .metadata import authorization_server_metadata_url
from .metadata import openid_configuration_url

logger = logging.getLogger(__name__)

#: The key type each accepted signature algorithm needs.
KEY_TYPES = {
    **dict.fromkeys(("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"), "RSA"),
    **dict.fromkeys(("ES256", "ES384", "ES512", "ES256K"), "EC"),
    **dict.fromkeys(("EdDSA", "Ed25519", "Ed448"), "OKP"),
}


class AllowListRegistry(JWSRegistry):
    """A JWS registry that accepts exactly its allow-list.

    joserfc warns on every use of ``EdDSA`` (deprecated by RFC 9864 in favour
    of ``Ed25519``); tokens still use it widely, and that warning would be
    raised once per request, so this registry returns the algorithm silently.
    """

    def get_alg(self, name: str) -> t.Any:
        if not self.allowed or name not in self.allowed or name not in self.algorithms:
            raise UnsupportedAlgorithmError(f"Algorithm of '{name}' is not allowed")
        return self.algorithms[name]


def forbidden_alg(alg: str) -> bool:
    """``none`` needs no key; ``HS*`` would take a public key as shared secret."""
    return alg.lower() == "none" or alg.upper().startswith("HS")


def discover_jwks_uri(issuer: str, discovery: DiscoveryDocumentCache) -> str:
    """The ``jwks_uri`` of ``issuer``'s metadata.

    Tries the :rfc:`8414#section-3.1` URL, then OpenID Connect Discovery, and
    accepts a document only if its ``issuer`` is exactly ``issuer``
    (:rfc:`8414#section-3.3`).

    :raises DiscoveryError: when neither gives a usable document.
    """
    failures = []
    for url in (
        authorization_server_metadata_url(issuer),
        openid_configuration_url(issuer),
    ):
        try:
            document = discovery.get(url)
        except DiscoveryError as error:
            failures.append(str(error))
            continue
        jwks_uri = document.get("jwks_uri")
        if document.get("issuer") != issuer:
            failures.append(f"{url}: issuer {document.get('issuer')!r} differs")
        elif not isinstance(jwks_uri, str) or not jwks_uri:
            failures.append(f"{url}: no jwks_uri")
        else:
            return jwks_uri
    raise DiscoveryError(issuer, "no usable metadata: " + "; ".join(failures))


class JWKSet:
    """The signature keys published at one JWK Set URL.

    :param discovery: fetches and caches the set in the shared store.
    :param refetch_interval: least seconds between two refetches caused by an
        unknown ``kid``. The limit holds for every worker sharing the store:
        a refetch first ``add``\\ s a marker key with this TTL, and only the
        caller that created it may refetch.
    """

    def __init__(
        self, discovery: DiscoveryDocumentCache, refetch_interval: float = 30.0
    ) -> None:
        self.discovery = discovery
        self.refetch_interval = refetch_interval
        self._mutex = threading.Lock()
        #: Parsed keys of the last set seen, by fingerprint: parsing RSA keys
        #: for every request would cost more than the signature check.
        self._parsed: dict[str, tuple[str, list[Key]]] = {}

    def find(self, uri: str, alg: str, kid: str | None) -> list[Key]:
        """Keys that may have signed a token with this ``alg`` and ``kid``.

        Refetches the set once (rate-limited) when none matches. A token
        without ``kid`` gets every key of the right type.

        :raises DiscoveryError: when the set cannot be fetched.
        """
        keys = _matching(self.keys(uri), alg, kid)
        if not keys and self._may_refetch(uri):
            logger.info("no %s key with kid %r in %s: refetching it", alg, kid, uri)
            keys = _matching(self.keys(uri, refresh=True), alg, kid)
        return keys

    def keys(self, uri: str, *, refresh: bool = False) -> list[Key]:
        """Every usable signature key of the set."""
        get = self.discovery.refresh if refresh else self.discovery.get
        document = get(uri)
        fingerprint = hashlib.sha256(
            json.dumps(document, sort_keys=True, default=str).encode()
        ).hexdigest()
        with self._mutex:
            parsed = self._parsed.get(uri)
            if parsed and parsed[0] == fingerprint:
                return parsed[1]
        keys = _import_keys(document)
        with self._mutex:
            self._parsed[uri] = (fingerprint, keys)
        return keys

    def _may_refetch(self, uri: str) -> bool:
        marker = "auth:jwks-refetch:" + hashlib.sha256(uri.encode()).hexdigest()
        return self.discovery.cache.add(marker, time.time(), self.refetch_interval)


def _matching(keys: list[Key], alg: str, kid: str | None) -> list[Key]:
    return [
        key
        for key in keys
        if (kid is None or key.kid == kid)
        and key.key_type == KEY_TYPES[alg]
        and key.get("alg", alg) == alg
    ]


def _import_keys(document: dict[str, t.Any]) -> list[Key]:
    keys: list[Key] = []
    entries = document.get("keys")
    for entry in entries if isinstance(entries, list) else ():
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        if entry.get("kty") not in ("RSA", "EC", "OKP"):
            continue  # an "oct" key in a public JWK Set is a misconfiguration
        try:
            keys.append(JWKRegistry.import_key(entry))
        except (JoseError, ValueError, TypeError) as error:
            logger.debug("skipping JWK %r: %s", entry.get("kid"), error)
    return keys
