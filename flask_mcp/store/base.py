"""The :class:`Store`: every piece of shared state goes through it.

It wraps one backend from :mod:`flask_mcp.store.backends` and adds a key
namespace, so several :class:`~flask_mcp.FlaskMCP` instances (or several apps)
can share one Redis database or folder without reading each other's keys.
"""

from __future__ import annotations

import math
import threading
import time
import typing as t
from contextlib import AbstractContextManager


class StoreBackend(t.Protocol):
    """What a backend must offer on top of flask-caching's ``BaseCache``."""

    def get(self, key: str) -> t.Any: ...
    def set(self, key: str, value: t.Any, timeout: int | None = None) -> t.Any: ...
    def add(self, key: str, value: t.Any, timeout: int | None = None) -> bool: ...
    def delete(self, key: str) -> t.Any: ...
    def take(self, key: str) -> t.Any: ...
    def incr(self, key: str, timeout: int | None = None) -> int: ...
    def lock(
        self, name: str, timeout: float = 10.0
    ) -> AbstractContextManager[None]: ...
    def remove_expired(self) -> None: ...


class Store:
    """Shared key-value state with time-to-live, atomic take and locks.

    :param backend: a backend from :mod:`flask_mcp.store.backends`.
    :param namespace: prefix for every key of this store.
    """

    def __init__(self, backend: StoreBackend, namespace: str = "mcp:") -> None:
        self.backend = backend
        self.namespace = namespace

    def child(self, namespace: str) -> Store:
        """A view of the same backend under a longer prefix."""
        return Store(self.backend, f"{self.namespace}{namespace}")

    def _key(self, key: str) -> str:
        return f"{self.namespace}{key}"

    def get(self, key: str) -> t.Any:
        return self.backend.get(self._key(key))

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds (rounded up; never 0 = forever)."""
        self.backend.set(self._key(key), value, _seconds(ttl))

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        """Store ``value`` only if ``key`` is absent; ``True`` if this call did."""
        return bool(self.backend.add(self._key(key), value, _seconds(ttl)))

    def delete(self, key: str) -> None:
        self.backend.delete(self._key(key))

    def take(self, key: str) -> t.Any:
        """Read and delete ``key`` atomically: of racing callers, one gets it."""
        return self.backend.take(self._key(key))

    def incr(self, key: str, ttl: float) -> int:
        """Atomically add one to a counter and return the new value."""
        return self.backend.incr(self._key(key), _seconds(ttl))

    def lock(self, name: str, timeout: float = 10.0) -> AbstractContextManager[None]:
        """An exclusive lock shared by every process that uses the store."""
        return self.backend.lock(self._key(name), timeout)

    def wait_take(self, key: str, timeout: float, interval: float = 0.02) -> t.Any:
        """Poll for ``key`` until it appears (then take it) or ``timeout`` passes.

        Replies to server-to-client requests arrive on whichever worker the
        client's POST reaches, so the waiting worker can only poll the store.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = self.take(key)
            if value is not None or time.monotonic() >= deadline:
                return value
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))

    def remove_expired(self) -> None:
        """Delete expired entries (a no-op where the backend expires by itself)."""
        self.backend.remove_expired()

    def sweep(self, every: float) -> bool:
        """Remove expired entries in the background, once per ``every`` seconds.

        Called on busy paths; the atomic ``add`` of a lease key makes one
        worker of the whole deployment do the sweep. ``True`` if this call
        started one.
        """
        if not self.add("sweep-lease", True, every):
            return False
        threading.Thread(target=self.remove_expired, daemon=True).start()
        return True


def _seconds(ttl: float) -> int:
    return max(1, math.ceil(ttl))
