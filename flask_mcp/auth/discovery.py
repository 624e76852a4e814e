"""Fetch and cache JSON metadata documents (:rfc:`8414`, OIDC discovery, JWKS).

Documents live in the shared :class:`~flask_mcp.store.Store`, so every worker
of every host reads one copy and the upstream server sees one fetch per TTL,
not one per process. Within a process, concurrent requests for one URL share a
single HTTP request.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import threading
import time
import typing as t
import urllib.error
import urllib.request
from urllib.parse import urlsplit

# requests (about 5 MB in a worker) is imported only for a session given to
# the cache: the standard library fetches otherwise.
if t.TYPE_CHECKING:
    import requests

from flask_mcp.store import Store
from flask_mcp.store import StoreSlot

__all__ = ["DiscoveryDocumentCache", "DiscoveryError"]

logger = logging.getLogger(__name__)

#: Store key prefix of cached documents.
_PREFIX = "auth:discovery:"
#: Store key of the index ``{key: (url, expires_at)}`` behind ``size`` and ``clear()``.
_INDEX = f"{_PREFIX}index"
#: Documents larger than this are refused: metadata is a few kilobytes.
MAX_DOCUMENT_BYTES = 1 << 20


class DiscoveryError(Exception):
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
    :param timeout: seconds for the connection and for each read.
    :param store: where documents are kept. ``None``: the store of the app
        that binds this cache (see :meth:`bind_store`), and until then a
        private in-process one.
    :param session: a :class:`requests.Session` to fetch with (proxies,
        custom CA bundle); without one, documents are fetched with the
        standard library (proxies from the environment, the system's CA
        certificates).

    ``size`` and ``clear()`` work through an index kept in the store (not a
    per-process list), so they describe the documents every worker shares:
    ``clear()`` in one worker drops them for all. Failures are never cached.
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
        self._slot = StoreSlot(store)
        self._session = session
        self._mutex = threading.Lock()
        self._flights: dict[tuple[str, bool], _Flight] = {}

    @property
    def store(self) -> Store:
        """The store in use now."""
        return self._slot.store

    def bind_store(self, store: Store) -> None:
        """Share documents through the app's ``store`` (unless a store was
        given to the constructor); :func:`flask_mcp.store.bind_store` calls it."""
        self._slot.bind(store)

    @property
    def session(self) -> requests.Session:
        """The HTTP session, made on first use."""
        with self._mutex:
            if self._session is None:
                import requests

                self._session = requests.Session()
            return self._session

    def get(self, url: str) -> dict[str, t.Any]:
        """The document at ``url``, from the store or fetched now.

        :raises DiscoveryError: on a non-200 answer, a body that is not a JSON
            object, a connection error or a timeout.
        """
        document = self.store.get(_key(url))
        if document is not None:
            return t.cast(dict[str, t.Any], document)
        return self._fetch_once(url, refresh=False)

    def refresh(self, url: str) -> dict[str, t.Any]:
        """Fetch ``url`` now and replace the cached copy (a JWKS after key
        rotation). Joins a fetch of the same URL already in flight."""
        return self._fetch_once(url, refresh=True)

    def has(self, url: str) -> bool:
        """Whether a live copy of ``url`` is cached."""
        return self.store.get(_key(url)) is not None

    def clear(self, url: str | None = None) -> None:
        """Forget ``url``, or every document this cache has stored."""
        store = self.store
        with store.lock(_INDEX):
            index = _live(store.get(_INDEX))
            keys = [_key(url)] if url is not None else list(index)
            for key in keys:
                store.delete(key)
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
            cached = None if refresh else self.store.get(_key(url))
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
        store = self.store
        key = _key(url)
        store.set(key, document, self.ttl)
        with store.lock(_INDEX):
            index = _live(store.get(_INDEX))
            index[key] = (url, time.time() + self.ttl)
            self._save_index(store, index)
        return document

    def _download(self, url: str) -> dict[str, t.Any]:
        body = self._get(url) if self._session is None else self._get_with_session(url)
        try:
            document = json.loads(body)
        except ValueError:
            raise DiscoveryError(url, "body is not valid JSON", 200) from None
        if not isinstance(document, dict):
            raise DiscoveryError(url, "body is not a JSON object", 200)
        logger.debug("fetched %s", url)
        return document

    def _get(self, url: str) -> bytes:
        """The body at ``url``, with the standard library: a worker that
        verifies tokens need not hold ``requests`` (about 5 MB) for the one
        fetch in an hour. http and https only, redirects included."""
        if urlsplit(url).scheme not in ("http", "https"):
            raise DiscoveryError(url, "request failed (not an http or https URL)")
        request = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            with _OPENER.open(request, timeout=self.timeout) as response:
                if response.status != 200:
                    raise DiscoveryError(url, "unexpected status", response.status)
                body: bytes = response.read(MAX_DOCUMENT_BYTES + 1)
        except urllib.error.HTTPError as error:
            error.close()
            raise DiscoveryError(url, "unexpected status", error.code) from None
        except TimeoutError:
            raise DiscoveryError(url, f"timed out after {self.timeout} s") from None
        except (OSError, http.client.HTTPException, ValueError) as error:
            reason = getattr(error, "reason", None)
            if isinstance(reason, TimeoutError):
                raise DiscoveryError(url, f"timed out after {self.timeout} s") from None
            raise DiscoveryError(
                url, f"request failed ({type(error).__name__})"
            ) from None
        if len(body) > MAX_DOCUMENT_BYTES:
            raise DiscoveryError(url, "document larger than 1 MiB", 200)
        return body

    def _get_with_session(self, url: str) -> bytes:
        """The body at ``url``, through the ``requests`` session given."""
        import requests

        body = bytearray()
        try:
            with self.session.get(
                url,
                timeout=self.timeout,
                headers={"Accept": "application/json"},
                stream=True,
            ) as response:
                if response.status_code != 200:
                    raise DiscoveryError(url, "unexpected status", response.status_code)
                for chunk in response.iter_content(65536):
                    body += chunk
                    if len(body) > MAX_DOCUMENT_BYTES:
                        raise DiscoveryError(url, "document larger than 1 MiB", 200)
        except requests.Timeout:
            raise DiscoveryError(url, f"timed out after {self.timeout} s") from None
        except requests.RequestException as error:
            raise DiscoveryError(
                url, f"request failed ({type(error).__name__})"
            ) from None
        return bytes(body)

    def _save_index(self, store: Store, index: dict[str, tuple[str, float]]) -> None:
        if index:
            longest = max(expires for _, expires in index.values()) - time.time()
            store.set(_INDEX, index, max(1.0, longest))
        else:
            store.delete(_INDEX)


def _key(url: str) -> str:
    return _PREFIX + hashlib.sha256(url.encode()).hexdigest()


def _live(index: t.Any) -> dict[str, tuple[str, float]]:
    if not isinstance(index, dict):
        return {}
    now = time.time()
    return {k: v for k, v in index.items() if v[1] > now}


def _opener() -> urllib.request.OpenerDirector:
    """An opener for http and https only (no file:, ftp: or data: URLs, also
    not through a redirect); proxies from the environment, as requests."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPRedirectHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


_OPENER = _opener()
