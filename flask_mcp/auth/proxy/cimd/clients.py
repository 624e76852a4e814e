"""Clients identified by a metadata document, as the authorization server
sees them: :class:`ClientDocuments`.

A URL ``client_id`` becomes a public :class:`~..models.Client` (or one
authenticating with ``private_key_jwt``) whose metadata is the document at
that URL, checked (:mod:`.document`). Documents are kept in the shared store
for the lifetime their ``Cache-Control`` gives (:mod:`.fetch`), so one worker
of the whole deployment fetches a document once per lifetime. Changes to a
document (its redirect URIs...) take effect at the next fetch.

The URL is chosen by whoever sends the request, and a fetch holds a worker
until it ends (``timeout``, 2 s by default), so no document host, however
slow, may tie up the workers:

* one fetch in flight per URL, for the whole deployment (a marker added
  to the shared store): a request for a document another worker is fetching
  is answered at once, 503 ``temporarily_unavailable`` with ``Retry-After``
  (:class:`FetchInProgress`), instead of waiting for it;
* one fetch in flight per client address (IPv6 by /64), and at most
  ``fetches_per_minute`` of them: beyond, 429 ``temporarily_unavailable``
  with ``Retry-After`` (:class:`FetchRateExceeded`);
* a failed fetch or a refused document is remembered ``failure_cache``
  seconds: requests meanwhile are refused without fetching.

A refusal after the fetch began says only that the document cannot be used:
what the server's network answered (a name that resolves to a private
address, a port that refuses connections, a status) is no business of the
requester's. The log has the details (a warning). Refusals of the URL itself
(not https, no path...) say why. A store outage is
:class:`~flask_mcp.store.StoreUnavailable` (503), as anywhere.
"""

from __future__ import annotations

import json
import logging
import math
import time
import typing as t
from collections.abc import Mapping
from collections.abc import Sequence

from authlib.oauth2.rfc6749 import InvalidClientError
from authlib.oauth2.rfc6749 import OAuth2Error
from flask import request
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from flask_mcp.addresses import client_key
from flask_mcp.store import Store
from flask_mcp.store import StoreSlot

from ....errors import FlaskMCPError
from ...hashing import digest
from ..limits import OAuthLimits
from ..limits import RateLimiter
from ..models import Client
from ..redirects import RedirectPattern
from .cimd_options import CIMDOptions
from .document import DocumentError
from .document import check_client_id
from .document import check_document
from .document import looks_like_url
from .fetch import Fetcher
from .fetch import FetchError

log = logging.getLogger(__name__)

_Check = t.Callable[[dict[str, t.Any]], dict[str, t.Any]]


class TryLater(FlaskMCPError, OAuth2Error):
    """``temporarily_unavailable`` with ``Retry-After``: the request may
    succeed in ``retry_after`` seconds."""

    error = "temporarily_unavailable"
    #: What the requester is told.
    message = "try again later"

    def __init__(self, retry_after: float) -> None:
        super().__init__(self.message)
        self.retry_after = max(1, math.ceil(retry_after))

    def get_headers(self) -> list[tuple[str, str]]:
        headers = list(super().get_headers())
        return [*headers, ("Retry-After", str(self.retry_after))]


class FetchRateExceeded(TryLater):
    """Too many fetches from one client address, or one in flight: 429."""

    status_code = 429
    message = "too many client metadata documents fetched; try later"


class FetchInProgress(TryLater):
    """Another worker is fetching this document: 503, try again when its
    fetch is over."""

    status_code = 503
    message = "the client metadata document is being fetched; try again"


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
        grants_without_code: frozenset[str] = frozenset(),
    ) -> None:
        self.store = store.child("cimd:")
        #: Checked documents, which may be lost (the app's cache, else the store).
        self.cache = StoreSlot(self.store).cache
        self.grants_without_code = grants_without_code
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
                grants_without_code=self.grants_without_code,
            )

        return self._cached("doc", url, check)

    def _cached(self, kind: str, url: str, check: _Check) -> dict[str, t.Any]:
        """What ``check`` makes of the JSON object at ``url``: from the
        store, else fetched under the rules of the module docstring."""
        key = f"{kind}:{self._rules}:{digest(url)}"
        cached = self.cache.get(key)
        if isinstance(cached, dict):
            return cached
        failed = f"failed:{key}"
        if self.store.get(failed) is not None:
            raise _unusable(kind)
        deadline = self.options.timeout
        flight = f"fetching:{digest(url)}"
        if not self.store.add(flight, time.time() + deadline, deadline + 1):
            cached = self.cache.get(key)  # its fetch may have just ended
            if isinstance(cached, dict):
                return cached
            ends = self.store.get(flight)
            left = ends - time.time() if isinstance(ends, (int, float)) else deadline
            raise FetchInProgress(min(max(left, 1.0), deadline + 1))
        try:
            return self._fetch(kind, url, check, key, failed)
        finally:
            self.store.delete(flight)

    def _fetch(
        self, kind: str, url: str, check: _Check, key: str, failed: str
    ) -> dict[str, t.Any]:
        address = client_key(request.remote_addr)
        deadline = self.options.timeout
        own = f"fetching-from:{address}"
        if not self.store.add(own, 1, deadline + 1):
            raise FetchRateExceeded(deadline)
        try:
            wait = self.rate.hit(f"rate:{address}")
            if wait is not None:
                raise FetchRateExceeded(wait)
            try:
                fetched = self.fetcher.fetch_json(url)
                checked = check(fetched.data)
            except (FetchError, DocumentError) as error:
                log.warning(
                    "%s at %s refused (asked from %s): %s",
                    _NAMES[kind],
                    url,
                    request.remote_addr,
                    error,
                )
                if self.options.failure_cache:
                    self.store.set(failed, str(error), self.options.failure_cache)
                raise _unusable(kind) from None
        finally:
            self.store.delete(own)
        self.cache.set(key, checked, fetched.lifetime)
        log.info("%s at %s kept %ss", _NAMES[kind], url, fetched.lifetime)
        return checked


def _unusable(kind: str) -> InvalidClientError:
    """The one refusal a requester sees once a fetch began (the log says why)."""
    return InvalidClientError(
        description=f"the {_NAMES[kind]} cannot be used; the server's log says why"
    )


_NAMES = {"doc": "client metadata document", "jwks": "client's jwks_uri key set"}


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
