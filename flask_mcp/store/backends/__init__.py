"""The backends a :class:`~flask_mcp.store.Store` can use.

* :class:`FileStoreBackend`: files in one folder (the default), one host;
* :class:`RedisStoreBackend`: Redis, several hosts (needs ``redis``);
* :class:`MemoryStoreBackend`: one process (tests, private caches).
"""

from __future__ import annotations

import typing as t

from .files import FileStoreBackend
from .memory import MemoryStoreBackend

if t.TYPE_CHECKING:
    from .redis import RedisStoreBackend

__all__ = ["FileStoreBackend", "MemoryStoreBackend", "RedisStoreBackend"]


def __getattr__(name: str) -> t.Any:
    # redis-py is an optional dependency: imported by apps that use Redis only.
    if name == "RedisStoreBackend":
        from .redis import RedisStoreBackend

        return RedisStoreBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
