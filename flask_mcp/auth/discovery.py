"""Fetch and cache JSON metadata documents (:rfc:`8414`, OIDC discovery, JWKS).

Documents live in the app's Flask-Caching cache when it has one, else in the
shared :class:`~flask_mcp.store.Store` (see :mod:`flask_mcp.store.cache`), so
every worker of every host reads one copy and the upstream server sees one
fetch per TTL, not one per process. Within a process, concurrent requests for
one URL share a single HTTP request. A cache or store that is down is only a
miss: the copy this process read last serves until it expires, then the
document is fetched again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
import typing as t

# requests (about 5 MB in a worker) is imported only for a session given to
# the cache: the standard library fetches otherwise (see .documents).
if t.TYPE_CHECKING:
    import requests

from flask_mcp.store import Store
from flask_mcp.store import StoreError
from flask_mcp.store import StoreSlot
from flask_mcp.store.cache import SoftCache

from ..errors import FlaskMCPError
from . import documents

logger = logging.getLogger(__name__)

#: Store key prefix of cached documents.
_PREFIX = "auth:discovery:"
#: Store key of the index ``{key: [url, expires_at]}`` behind ``size`` and ``clear()``.
_INDEX = f"{_PREFIX}index"
#: Documents larger than this are refused (see :mod:`.documents`).
MAX_DOCUMENT_BYTES = documents.MAX_DOCUMENT_BYTES


class DiscoveryError(FlaskMCPError):
    """A document could not be fetched or was not a JSON object.

    :param url: the URL fetched.
    :param reason: what went wrong.
    :param status_code: the HTTP status, when a response arrived.
    """

    def __init__(self, url: str, reason: str, status_code: int | None = None) -> None:
        status = f" (HTTP {status_code})" if status_code is not None else ""
        super().__init__(f"could not fetch {url}{status}: {reason}")
        self.url = url
        self.reason = reason
        self.status_code = status_code


class _Flight:
    """One fetch in progress, awaited by every thread that wants its URL."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.document: dict[str, t.Any] | None = None
        self.error: DiscoveryError | None = None


class DiscoveryDocumentCache:
    """Cache of JSON documents fetched over HTTP, shared through the store.

    :param ttl: seconds a document stays cached.
    :param timeout: seconds a fetch may take, from connecting to the last
        byte.
    :param store: where documents are kept. ``None``: the store of the app
        that binds this cache (see :meth:`bind_store`), and until then a
        private in-process one.
    :param session: a :class:`requests.Session` to fetch with (proxies,
        custom CA bundle); without one, documents are fetched with the
        standard library (proxies from the environment, the system's CA
        certificates).

    ``size`` and ``clear()`` work through an index kept in the store (not a
    per-process list), so they describe the documents every worker shares:
    ``clear()`` in one worker drops them for all (a cache that evicts on its
    own, as memcached does, may hold fewer than ``size`` says). Failures are
    never cached.
    """

    def __init__(
        self,
        ttl: float = 3600,
        timeout: float = 10.0,
        store: Store | None = None,
        session: requests.Session | None = None,
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        self.ttl = ttl
        self.timeout = timeout
        self._slot = StoreSlot(store, owner=type(self).__name__)
        self._session = session
        self._mutex = threading.Lock()
        self._flights: dict[tuple[str, bool], _Flight] = {}

    @property
    def store(self) -> Store:
        """The store in use now (for the index, and :attr:`cache`'s default)."""
        return self._slot.store

    @property
    def cache(self) -> SoftCache:
        """Where the documents are: the app's Flask-Caching cache, else
        :attr:`store`."""
        return self._slot.cache

    def bind_store(self, store: Store) -> None:
        """Share documents through the app's ``store`` (unless a store was
        given to the constructor); :func:`flask_mcp.store.bind_store` calls it."""
        self._slot.bind(store)

    @property
    def session(self) -> requests.Session:
        """The session given to the constructor, else a new one: documents
        are then fetched without one (reading this does not change that)."""
        if self._session is not None:
            return self._session
        import requests

        return requests.Session()

    def get(self, url: str) -> dict[str, t.Any]:
        """The document at ``url``, from the store or fetched now.

        :raises DiscoveryError: on a non-200 answer, a body that is not a JSON
            object, a connection error or a timeout.
        """
        document = self.cache.get(_key(url))
        if document is not None:
            return t.cast(dict[str, t.Any], document)
        return self._fetch_once(url, refresh=False)

    def refresh(self, url: str) -> dict[str, t.Any]:
        """Fetch ``url`` now and replace the cached copy (a JWKS after key
        rotation). Joins a fetch of the same URL already in flight."""
        return self._fetch_once(url, refresh=True)

    def has(self, url: str) -> bool:
        """Whether a live copy of ``url`` is cached."""
        return self.cache.get(_key(url)) is not None

    def clear(self, url: str | None = None) -> None:
        """Forget ``url``, or every document this cache has stored."""
        store = self.store
        with store.lock(_INDEX):
            index = _live(store.get(_INDEX))
            keys = [_key(url)] if url is not None else list(index)
            for key in keys:
                self.cache.delete(key)
                index.pop(key, None)
            self._save_index(store, index)

    @property
    def size(self) -> int:
        """How many URLs are cached (for every worker sharing the store)."""
        return len(_live(self.store.get(_INDEX)))

    def _fetch_once(self, url: str, *, refresh: bool) -> dict[str, t.Any]:
        # A refresh never joins a plain get, which may answer from the store.
        slot = (url, refresh)
        with self._mutex:
            flight = self._flights.get(slot)
            leader = flight is None
            if flight is None:
                flight = self._flights[slot] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.document is not None:
                return flight.document
            error = flight.error or DiscoveryError(url, "fetch failed")
            # A copy per waiter: one exception raised in several threads would
            # collect all their tracebacks.
            raise DiscoveryError(error.url, error.reason, error.status_code)
        try:
            # Another thread or worker may have stored it in the meantime.
            cached = None if refresh else self.cache.get(_key(url))
            flight.document = cached if cached is not None else self._fetch(url)
        except DiscoveryError as error:
            flight.error = error
            raise
        finally:
            with self._mutex:
                del self._flights[slot]
            flight.done.set()
        return flight.document

    def _fetch(self, url: str) -> dict[str, t.Any]:
        document = self._download(url)
        key = _key(url)
        self.cache.set(key, document, self.ttl)
        store = self.store
        try:
            with store.lock(_INDEX):
                index = _live(store.get(_INDEX))
                index[key] = [url, time.time() + self.ttl]
                self._save_index(store, index)
        except StoreError as error:  # the document is served all the same
            logger.debug("the index of cached documents was not updated: %s", error)
        return document

    def _download(self, url: str) -> dict[str, t.Any]:
        try:
            body = documents.read(url, self.timeout, self._session)
        except documents.FetchError as error:
            raise DiscoveryError(url, error.reason, error.status_code) from None
        try:
            document = json.loads(body)
        except ValueError:
            raise DiscoveryError(url, "body is not valid JSON", 200) from None
        if not isinstance(document, dict):
            raise DiscoveryError(url, "body is not a JSON object", 200)
        logger.debug("fetched %s", url)
        return document

    def _save_index(self, store: Store, index: dict[str, list[t.Any]]) -> None:
        if index:
            longest = max(expires for _, expires in index.values()) - time.time()
            store.set(_INDEX, index, max(1.0, longest))
        else:
            store.delete(_INDEX)


def _key(url: str) -> str:
    return _PREFIX + hashlib.sha256(url.encode()).hexdigest()


def _live(index: t.Any) -> dict[str, list[t.Any]]:
    if not isinstance(index, dict):
        return {}
    now = time.time()
    return {
        key: entry
        for key, entry in index.items()
        if isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[1], (int, float))
        and entry[1] > now
    }
