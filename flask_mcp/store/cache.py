"""Entries that may be lost: documents fetched over HTTP and kept a while.

Two kinds of state, two homes:

* what must not be lost or taken twice (sessions, codes, tokens, leases,
  keys, counters) stays on the :class:`~flask_mcp.store.Store`, whose
  backends offer atomic ``add``, ``take``, ``incr`` and locks;
* what may be lost (discovery documents and JWK Sets, Client ID Metadata
  Documents, introspection answers) goes through a :class:`SoftCache`: into
  the app's Flask-Caching cache when it has one
  (:mod:`flask_mcp.store.app_cache`), else into the store as before.

A :class:`SoftCache` never fails its caller: a backend that fails makes a
read a miss and a write a no-op, and a copy kept in process memory answers
meanwhile until the entry's own expiry. So a cache (or a store) that is down
costs a fetch at most, never a request.
"""

from __future__ import annotations

import logging
import threading
import time
import typing as t

from .cache_backend import CacheBackend as CacheBackend
from .codec import dumps
from .codec import loads
from .core import Store

logger = logging.getLogger(__name__)

#: Entries a :class:`SoftCache` keeps in process memory, at most.
LOCAL_SIZE = 1024


class StoreCacheBackend:
    """A :class:`Store` as a cache backend: keys as given, no namespace of
    its own (the :class:`SoftCache` adds the owner's)."""

    def __init__(self, store: Store) -> None:
        self.store = Store(store.backend, "", health=store.health)

    def __repr__(self) -> str:
        return f"StoreCacheBackend({self.store.backend!r})"

    def get(self, key: str) -> t.Any:
        return self.store.get(key)

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        self.store.set(key, value, ttl)

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        return self.store.add(key, value, ttl)

    def delete(self, key: str) -> None:
        self.store.delete(key)


#: What a :class:`SoftCache` resolves before each operation: the backend
#: and the prefix of its keys there.
Resolver: t.TypeAlias = t.Callable[[], tuple[CacheBackend, str]]


class SoftCache:
    """A cache that never fails its caller.

    Entries are written with their expiry (``{"v": value, "e": unix_time}``),
    so every reader honours the writer's TTL whatever the backend rounds it
    to, and a copy kept in this process can stand in while the backend
    fails, but never past that expiry: a cached introspection answer is not
    trusted longer than it was meant to be.

    :param resolve: the backend to use now, and the prefix of the keys.
    """

    def __init__(self, resolve: Resolver) -> None:
        self._resolve = resolve
        #: Copies kept in this process: the JSON text and its expiry.
        self._local: dict[str, tuple[bytes, float]] = {}
        self._mutex = threading.Lock()

    def get(self, key: str) -> t.Any:
        """The live value of ``key``, or ``None``."""
        now = time.time()
        try:
            backend, prefix = self._resolve()
            entry = backend.get(prefix + key)
        except Exception as error:  # a cache that fails is a cache that misses
            logger.debug("cache read of %s failed (%s): local copy", key, error)
            return self._local_get(key, now)
        if not isinstance(entry, dict) or "v" not in entry:
            return None  # missing, or not written by this class
        expires = entry.get("e")
        if not isinstance(expires, (int, float)) or expires <= now:
            return None
        self._remember(key, entry["v"], expires)
        return entry["v"]

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        """Keep ``value`` for ``ttl`` seconds (here at least, if the backend
        fails)."""
        expires = time.time() + ttl
        self._remember(key, value, expires)
        try:
            backend, prefix = self._resolve()
            backend.set(prefix + key, {"v": value, "e": expires}, ttl)
        except Exception as error:
            logger.debug("cache write of %s failed (%s)", key, error)

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        """Keep ``value`` unless ``key`` has a live one; ``True`` if this
        call did. While the backend fails, the answer is this process's."""
        now = time.time()
        try:
            backend, prefix = self._resolve()
            added = backend.add(prefix + key, {"v": value, "e": now + ttl}, ttl)
        except Exception as error:
            logger.debug("cache add of %s failed (%s): local answer", key, error)
            with self._mutex:
                if self._local_get(key, now) is not None:
                    return False
                self._remember(key, value, now + ttl)
                return True
        if added:
            self._remember(key, value, now + ttl)
        return bool(added)

    def delete(self, key: str) -> None:
        """Forget ``key``, here and in the backend (if it answers)."""
        self._local.pop(key, None)
        try:
            backend, prefix = self._resolve()
            backend.delete(prefix + key)
        except Exception as error:
            logger.debug("cache delete of %s failed (%s)", key, error)

    def _remember(self, key: str, value: t.Any, expires: float) -> None:
        known = self._local.get(key)
        if known is not None and known[1] == expires:
            return  # the same entry read again: its copy is current
        if len(self._local) >= LOCAL_SIZE:
            self._local.clear()
        self._local[key] = (dumps(value), expires)

    def _local_get(self, key: str, now: float) -> t.Any:
        entry = self._local.get(key)
        if entry is None or entry[1] <= now:
            return None
        return loads(entry[0])  # a copy: callers may change what they read
