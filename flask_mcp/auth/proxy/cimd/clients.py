"""Clients identified by a metadata document, as the authorization server
sees them: :class:`ClientDocuments`.

A URL ``client_id`` becomes a public :class:`~..models.Client` (or one
authenticating with ``private_key_jwt``) whose metadata is the document at
that URL, checked (:mod:`.document`). Documents are kept in the app's cache
(its Flask-Caching cache, else the shared store: :mod:`flask_mcp.store.cache`)
for the lifetime their ``Cache-Control`` gives (:mod:`.fetch`), so one worker
of the whole deployment fetches a document once per lifetime: the others
wait for it on a store lock and then read its result. A failed fetch or a
refused document is never remembered: the next request fetches again.
Changes to a document (its redirect URIs...) take effect at the next fetch.

Every refusal is ``invalid_client`` with a description saying why; a store
outage is :class:`~flask_mcp.store.StoreUnavailable` (503), as anywhere.
Fetches are counted per client address (``fetches_per_minute``): a fetch
may hold a worker for the whole ``timeout``, so one address cannot keep
them all busy (:class:`FetchRateExceeded`, 429).
"""

from __future__ import annotations

import json
import logging
import math
import re
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc6749 import OAuth2Error
from flask import request
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from flask_mcp.store import Store
from flask_mcp.store import StoreSlot

from ....errors import FlaskMCPError
from ..limits import OAuthLimits
from ..limits import RateLimiter
from ..models import Client
from ..redirects import RedirectPattern
from ..sealing import digest
from .cimd_options import CIMDOptions
from .document import DocumentError
from .document import check_client_id
from .document import check_document
from .document import looks_like_url
from .fetch import Fetcher
from .fetch import FetchError

log = logging.getLogger(__name__)

_Check = t.Callable[[dict[str, t.Any]], dict[str, t.Any]]


class FetchRateExceeded(FlaskMCPError, OAuth2Error):
    """Too many fetches from one client address: 429
    ``temporarily_unavailable`` with ``Retry-After``."""

    error = "temporarily_unavailable"
    status_code = 429

    def __init__(self, retry_after: float) -> None:
        super().__init__("too many client metadata documents fetched; try later")
        self.retry_after = max(1, math.ceil(retry_after))

    def get_headers(self) -> list[tuple[str, str]]:
        headers = list(super().get_headers())
        return [*headers, ("Retry-After", str(self.retry_after))]


#: Seconds a worker waits for another one fetching the same document,
#: beyond the fetch timeout.
LOCK_MARGIN = 5.0


class ClientDocuments:
    """The clients whose ``client_id`` is the URL of their metadata document.

    :param store: where documents are kept (the proxy's part of the store).
    :param server_metadata: the server's :rfc:`8414` document with the
        scopes clients may ask for; it bounds what a document may say.
    :param patterns: the redirect URI allow-list, or ``None``.
    :param limits: bounds on client metadata, as for registrations.
    """

    def __init__(
        self,
        *,
        store: Store,
        options: CIMDOptions,
        server_metadata: Mapping[str, t.Any],
        patterns: Sequence[RedirectPattern] | None,
        limits: OAuthLimits,
    ) -> None:
        self.store = store.child("cimd:")
        #: Checked documents, which may be lost (the app's cache, else the store).
        self.cache = StoreSlot(self.store).cache
        self.options = options
        self.fetcher = Fetcher(options)
        self.server_metadata = dict(server_metadata)
        self.patterns = patterns
        self.limits = limits
        # Documents checked under other rules (another allow-list, other
        # scopes...) are not reused: the rules are part of the key.
        rules = [self.server_metadata, [repr(p) for p in patterns or ()], repr(limits)]
        self._rules = digest(json.dumps(rules, sort_keys=True, default=str))[:16]
        self.rate = RateLimiter(self.store, options.fetches_per_minute, 60)

    @staticmethod
    def handles(client_id: t.Any) -> bool:
        """Whether ``client_id`` is meant as a metadata document URL."""
        return looks_like_url(client_id)

    def client(self, client_id: str) -> Client:
        """The client the document at ``client_id`` describes.

        :raises InvalidClientError: naming why the URL or its document is
            refused.
        """
        try:
            host = check_client_id(client_id, self.limits.max_field_length)
        except DocumentError as error:
            raise InvalidClientError(description=str(error)) from None
        return Client(
            client_id=client_id, metadata=self._metadata(client_id), document_host=host
        )

    def keys(self, client: Client) -> KeySet:
        """The public keys of a ``private_key_jwt`` client: its document's
        ``jwks``, or the key set at its ``jwks_uri`` (fetched and kept like
        documents).

        :raises InvalidClientError: when there are none to use.
        """
        metadata = client.metadata
        jwks: t.Any = metadata.get("jwks")
        if client.document_host is None or not (jwks or metadata.get("jwks_uri")):
            raise InvalidClientError(description="the client has no public keys")
        if not jwks:
            jwks = self._cached("jwks", metadata["jwks_uri"], _public_keys)
        keys: KeySet = KeySet.import_key_set(jwks)
        return keys

    def _metadata(self, url: str) -> dict[str, t.Any]:
        def check(document: dict[str, t.Any]) -> dict[str, t.Any]:
            return check_document(
                url,
                document,
                server_metadata=self.server_metadata,
                patterns=self.patterns,
                limits=self.limits,
            )

        return self._cached("doc", url, check)

    def _cached(self, kind: str, url: str, check: _Check) -> dict[str, t.Any]:
        """What ``check`` makes of the JSON object at ``url``: from the
        store, else fetched (by one worker at a time) and kept."""
        key = f"{kind}:{self._rules}:{digest(url)}"
        cached = self.cache.get(key)
        if isinstance(cached, dict):
            return cached
        wait = self.rate.hit(f"rate:{request.remote_addr}")
        if wait is not None:
            raise FetchRateExceeded(wait)
        with self.store.lock(
            f"fetch:{digest(url)}", timeout=self.options.timeout + LOCK_MARGIN
        ):
            cached = self.cache.get(key)  # fetched meanwhile by another worker?
            if isinstance(cached, dict):
                return cached
            try:
                fetched = self.fetcher.fetch_json(url)
                checked = check(fetched.data)
            except (FetchError, DocumentError) as error:
                log.info("%s at %s refused: %s", _NAMES[kind], url, error)
                raise InvalidClientError(
                    description=_safe(f"the {_NAMES[kind]} cannot be used: {error}")
                ) from None
            self.cache.set(key, checked, fetched.lifetime)
            log.info("%s at %s kept %ss", _NAMES[kind], url, fetched.lifetime)
            return checked


_NAMES = {"doc": "client metadata document", "jwks": "client's jwks_uri key set"}
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def _safe(description: str) -> str:
    """Only the characters :rfc:`6749#section-5.2` allows in
    ``error_description`` (parts of it come from the fetched server)."""
    return _UNSAFE.sub("?", description)[:400]


def _public_keys(document: dict[str, t.Any]) -> dict[str, t.Any]:
    """A JWK Set of public keys."""
    keys = document.get("keys")
    if not isinstance(keys, list) or not keys:
        raise DocumentError("it is not a JWK Set")
    if any(not isinstance(key, dict) or "d" in key for key in keys):
        raise DocumentError("it holds private keys")
    try:
        KeySet.import_key_set(t.cast(t.Any, document))
    except (JoseError, ValueError, TypeError) as error:
        raise DocumentError(f"it is not a usable JWK Set ({error})") from None
    return document
