"""Build the :class:`Store` an app's configuration asks for.

``MCP_STORE_FACTORY`` (a callable, or its dotted path as flask-caching's
``CACHE_TYPE`` takes one) plugs in any :class:`StoreBackend`; otherwise
``MCP_STORE_URL`` picks one of the built-in backends.
"""

from __future__ import annotations

import importlib
import os
import typing as t
from urllib.parse import unquote
from urllib.parse import urlsplit

from .backends import FileStoreBackend
from .backends import MemoryStoreBackend
from .core import Store
from .core import StoreBackend

#: ``factory(config, instance_path) -> StoreBackend``, for ``MCP_STORE_FACTORY``.
BackendFactory = t.Callable[[t.Mapping[str, t.Any], str], StoreBackend]


#: URL schemes of :class:`~flask_mcp.store.backends.RedisStoreBackend`.
REDIS_SCHEMES = frozenset(
    {
        "redis",
        "rediss",
        "unix",
        "redis+sentinel",
        "rediss+sentinel",
        "redis+cluster",
        "rediss+cluster",
    }
)


def create_backend(
    url: str | None,
    instance_path: str,
    *,
    timeout: float = 2.0,
    sweep_interval: float = 60.0,
) -> StoreBackend:
    """The built-in backend for ``url``.

    * ``None``: files under the app's instance folder, shared by every worker
      of this host (the default);
    * ``file:///some/folder``: files in that folder;
    * ``redis://...``, ``rediss://...``, ``unix://...``: Redis, for several
      hosts; ``redis+sentinel://...``: the primary Sentinel names, found
      again after a failover; ``redis+cluster://...``: a Redis Cluster (see
      :mod:`flask_mcp.store.backends.redis_urls`);
    * ``memory://``: this process only (tests, the development server).

    :param timeout: bounds each connection attempt and each answer of Redis,
        and each wait of the file store for another process's write.
    :param sweep_interval: seconds between two sweeps of the file store's
        expired entries by each process's timer (``0``: none).
    """
    if url is None:
        return FileStoreBackend(
            os.path.join(instance_path, "flask_mcp"),
            timeout=timeout,
            sweep_interval=sweep_interval,
        )
    parts = urlsplit(url)
    if parts.scheme == "file":
        return FileStoreBackend(
            unquote(parts.path), timeout=timeout, sweep_interval=sweep_interval
        )
    if parts.scheme in REDIS_SCHEMES:
        from .backends.redis import RedisStoreBackend

        return RedisStoreBackend.from_url(url, timeout=timeout)
    if parts.scheme == "memory":
        return MemoryStoreBackend()
    raise ValueError(
        f"MCP_STORE_URL scheme {parts.scheme!r} is not supported; use file://,"
        " redis://, rediss://, unix://, redis+sentinel://, redis+cluster:// or"
        " memory://, or MCP_STORE_FACTORY"
    )


def create_store(
    url: str | None, instance_path: str, namespace: str, *, timeout: float = 2.0
) -> Store:
    """A :class:`Store` over :func:`create_backend`'s backend for ``url``."""
    return Store(create_backend(url, instance_path, timeout=timeout), namespace)


def store_from_config(
    config: t.Mapping[str, t.Any], instance_path: str, namespace: str
) -> Store:
    """The store an app's ``MCP_STORE_*`` keys describe.

    :param config: the app's config (``MCP_STORE_FACTORY``, ``MCP_STORE_URL``,
        ``MCP_STORE_TIMEOUT``, ``MCP_STORE_PROBE_INTERVAL``,
        ``MCP_STORE_SWEEP_INTERVAL``); a factory receives all of it, to read
        keys of its own.
    :param instance_path: the app's instance folder.
    :param namespace: prefix of every key of this store.
    :raises TypeError: when the factory does not return a backend.
    """
    factory = config.get("MCP_STORE_FACTORY")
    if factory is None:
        backend = create_backend(
            config.get("MCP_STORE_URL"),
            instance_path,
            timeout=float(config.get("MCP_STORE_TIMEOUT", 2.0)),
            sweep_interval=float(config.get("MCP_STORE_SWEEP_INTERVAL", 60.0)),
        )
    else:
        make = _import(factory) if isinstance(factory, str) else factory
        backend = make(config, instance_path)
        if not isinstance(backend, StoreBackend):
            raise TypeError(
                f"MCP_STORE_FACTORY {factory!r} returned {backend!r}, which lacks"
                " the methods of flask_mcp.store.StoreBackend"
            )
    probe = float(config.get("MCP_STORE_PROBE_INTERVAL", 0.5))
    return Store(backend, namespace, probe_interval=probe)


def _import(path: str) -> BackendFactory:
    """``"pkg.module:name"`` or ``"pkg.module.name"``."""
    module, _, name = path.partition(":") if ":" in path else path.rpartition(".")
    if not module or not name:
        raise ValueError(f"MCP_STORE_FACTORY {path!r} is not a dotted path")
    return t.cast(BackendFactory, getattr(importlib.import_module(module), name))
