"""Shared state for every worker of every host: see :class:`Store`."""

from .base import Store
from .base import StoreBackend
from .factory import create_store

__all__ = ["Store", "StoreBackend", "create_store"]
