"""Build the :class:`Store` an app asked for in ``MCP_STORE_URL``."""

from __future__ import annotations

import os
from urllib.parse import urlsplit

from .backends import FileStoreBackend
from .backends import MemoryStoreBackend
from .backends import RedisStoreBackend
from .base import Store


def create_store(url: str | None, instance_path: str, namespace: str) -> Store:
    """Make a store from a URL.

    * ``None``: files under the app's instance folder, shared by every worker
      of this host (the default);
    * ``file:///some/folder``: files in that folder;
    * ``redis://...`` / ``rediss://...`` / ``unix://...``: Redis, for several hosts;
    * ``memory://``: this process only (tests, the development server).
    """
    if url is None:
        return Store(
            FileStoreBackend(os.path.join(instance_path, "flask_mcp")), namespace
        )
    scheme = urlsplit(url).scheme
    if scheme == "file":
        return Store(FileStoreBackend(urlsplit(url).path), namespace)
    if scheme in {"redis", "rediss", "unix"}:
        import redis

        return Store(RedisStoreBackend(redis.Redis.from_url(url)), namespace)
    if scheme == "memory":
        return Store(MemoryStoreBackend(), namespace)
    raise ValueError(f"MCP_STORE_URL scheme {scheme!r} is not supported")
