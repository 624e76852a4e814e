"""What a cache backend offers: :class:`CacheBackend`.

In a module of its own, below both the :class:`~flask_mcp.store.Store`
(which holds the cache its auth caches use) and
:mod:`flask_mcp.store.cache` (which builds on the store).
"""

from __future__ import annotations

import typing as t


@t.runtime_checkable
class CacheBackend(t.Protocol):
    """Where a :class:`SoftCache` keeps entries. Values are JSON data,
    ``ttl`` a positive number of seconds; any method may raise when the
    backend is down (the :class:`SoftCache` turns that into a miss)."""

    def get(self, key: str) -> t.Any:
        """The value of ``key``, or ``None``."""

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        """Keep ``value`` for ``ttl`` seconds."""

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        """Keep ``value`` unless ``key`` has one; ``True`` if this call did."""

    def delete(self, key: str) -> None:
        """Forget ``key``."""
