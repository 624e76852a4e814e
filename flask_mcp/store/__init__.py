"""Shared state for every worker of every host: see :class:`Store`."""

from __future__ import annotations

from .binding import StoreBindable
from .binding import StoreSlot
from .binding import bind_store
from .cache import CacheBackend
from .cache import SoftCache
from .core import Store
from .core import StoreBackend
from .errors import LockTimeout
from .errors import StoreError
from .errors import StoreUnavailable
from .factory import BackendFactory
from .factory import create_backend
from .factory import create_store
from .factory import store_from_config

__all__ = [
    "BackendFactory",
    "CacheBackend",
    "LockTimeout",
    "SoftCache",
    "Store",
    "StoreBackend",
    "StoreBindable",
    "StoreError",
    "StoreSlot",
    "StoreUnavailable",
    "bind_store",
    "create_backend",
    "create_store",
    "store_from_config",
]
