"""The app's Flask-Caching cache as a :class:`~flask_mcp.store.cache.CacheBackend`.

:class:`AppCache` is what :class:`~flask_mcp.FlaskMCP` sets as its store's
:attr:`~flask_mcp.store.Store.cache`: the ``Cache`` given as
``FlaskMCP(cache=...)``, else the one Flask-Caching registered on the app
(looked up at the first use in an app context, so ``Cache(app)`` may come
before or after ``FlaskMCP(app)``), else the store itself.

Only Flask-Caching's public API is used (``get``, ``set``, ``add``,
``delete`` and the ``cache`` property), so any of its backends works:
Redis, memcached, files, or one process's memory. Values go in as JSON text;
what each backend makes of them for several workers:

* ``RedisCache``, ``MemcachedCache`` and the like: one copy for every worker
  of every host;
* ``FileSystemCache``: one copy per host (for the workers sharing the folder);
* ``SimpleCache``: one copy **per process**: each gunicorn worker fetches
  for itself (a warning says so once, at the first request served by one of
  several workers);
* ``NullCache``: nothing is kept, so flask_mcp keeps its caches in the store
  instead.

A cache that fails (a Redis that is down) is left alone for
``RETRY_AFTER`` seconds (5), so a frozen cache server costs one timeout per
process and pause, not one per request; its outage and its return are
logged once each, as warnings.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import typing as t

from flask import Flask
from flask import current_app
from flask import has_app_context

from .binding import several_workers
from .cache import CacheBackend
from .cache import StoreCacheBackend
from .codec import dumps
from .codec import loads
from .core import Store
from .errors import StoreError

logger = logging.getLogger(__name__)

#: Seconds a cache that failed is skipped before it is tried again.
RETRY_AFTER = 5.0
#: Flask-Caching backends that keep one copy per process.
_PER_PROCESS = {"SimpleCache"}


class CacheDown(StoreError):
    """The cache failed a moment ago and is skipped for now."""


class FlaskCachingBackend:
    """One Flask-Caching ``Cache`` (a ``flask_caching.Cache``).

    :param cache: the ``Cache``; its methods need the app context (or the
        app it was made with), which every request has.
    :param retry_after: seconds a cache that failed is skipped.
    """

    def __init__(self, cache: t.Any, retry_after: float = RETRY_AFTER) -> None:
        self.cache = cache
        self.retry_after = retry_after
        self._down_since: float | None = None
        self._retry_at = 0.0
        self._warned = False
        self._mutex = threading.Lock()

    def __repr__(self) -> str:
        return f"FlaskCachingBackend({_kind(self.cache)})"

    def get(self, key: str) -> t.Any:
        return loads(self._call(self.cache.get, key))

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        self._call(self.cache.set, key, dumps(value).decode(), timeout=_seconds(ttl))

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        text = dumps(value).decode()
        return bool(self._call(self.cache.add, key, text, timeout=_seconds(ttl)))

    def delete(self, key: str) -> None:
        self._call(self.cache.delete, key)

    def _call(self, fn: t.Callable[..., t.Any], *args: t.Any, **kwargs: t.Any) -> t.Any:
        if self._down_since is not None and time.monotonic() < self._retry_at:
            raise CacheDown(f"{self!r} failed; tried again in a moment")
        if not self._warned:
            self._warn_per_process()
        try:
            result = fn(*args, **kwargs)
        except Exception as error:
            self._failed(error)
            raise
        if self._down_since is not None:
            self._back()
        return result

    def _failed(self, error: Exception) -> None:
        with self._mutex:
            now = time.monotonic()
            self._retry_at = now + self.retry_after
            if self._down_since is not None:
                return
            self._down_since = now
        logger.warning(
            "the Flask-Caching cache %s is unavailable (%s: %s); flask_mcp"
            " fetches what it would have read from it until it is back",
            _kind(self.cache),
            type(error).__name__,
            error,
        )

    def _back(self) -> None:
        with self._mutex:
            if self._down_since is None:
                return
            seconds, self._down_since = time.monotonic() - self._down_since, None
        logger.warning(
            "the Flask-Caching cache %s is available again after %.1f s",
            _kind(self.cache),
            seconds,
        )

    def _warn_per_process(self) -> None:
        """Once, at the first use in a request served by one of several
        worker processes: a per-process cache is no shared cache."""
        workers = several_workers()
        if workers is None:
            return  # no request to tell: asked again next time
        self._warned = True
        if workers and _kind(self.cache) in _PER_PROCESS:
            logger.warning(
                "the Flask-Caching cache is a %s: each of the several worker"
                " processes keeps its own copy, so each fetches discovery"
                " documents and keys for itself. Use a shared CACHE_TYPE"
                " (RedisCache, FileSystemCache...) to fetch once per TTL.",
                _kind(self.cache),
            )


class AppCache:
    """The cache of one app: its Flask-Caching ``Cache``, else ``store``.

    :param store: the app's store, where entries go without a cache.
    :param cache: the ``Cache`` given to :class:`~flask_mcp.FlaskMCP`, if any.
    """

    def __init__(self, store: Store, cache: t.Any = None) -> None:
        self.store_backend = StoreCacheBackend(store)
        self._given = cache
        self._chosen: CacheBackend | None = None

    def __repr__(self) -> str:
        return f"AppCache({self._chosen or self._given or self.store_backend!r})"

    @property
    def backend(self) -> CacheBackend:
        """The backend in use: chosen at the first use in an app context."""
        chosen = self._chosen
        if chosen is not None:
            return chosen
        if not has_app_context():
            return self.store_backend  # nothing to look in yet
        cache = (
            self._given if self._given is not None else find_flask_cache(current_app)
        )
        if cache is not None and _kind(cache) == "NullCache":
            logger.info(
                "the Flask-Caching cache keeps nothing: flask_mcp uses the store"
            )
            cache = None
        chosen = self._chosen = (
            FlaskCachingBackend(cache) if cache is not None else self.store_backend
        )
        return chosen

    def get(self, key: str) -> t.Any:
        return self.backend.get(key)

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        self.backend.set(key, value, ttl)

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        return self.backend.add(key, value, ttl)

    def delete(self, key: str) -> None:
        self.backend.delete(key)


def find_flask_cache(app: Flask) -> t.Any:
    """The app's Flask-Caching ``Cache``, if it has exactly one; else ``None``."""
    caches = app.extensions.get("cache")
    if not isinstance(caches, dict) or len(caches) != 1:
        if isinstance(caches, dict) and caches:
            logger.info(
                "the app has %d Flask-Caching caches: flask_mcp uses the store;"
                " pass FlaskMCP(cache=...) to choose one",
                len(caches),
            )
        return None
    ((cache, _),) = caches.items()
    return cache


def _kind(cache: t.Any) -> str:
    """The class name of a ``Cache``'s backend (``RedisCache``...)."""
    try:
        return type(cache.cache).__name__
    except Exception:  # outside an app context
        return type(cache).__name__


def _seconds(ttl: float) -> int:
    # Flask-Caching counts whole seconds, and 0 would mean "forever"; the
    # exact expiry travels with the value (see SoftCache).
    return max(1, math.ceil(ttl))
