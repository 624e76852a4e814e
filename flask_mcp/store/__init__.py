"""Shared state for every worker of every host: see :class:`Store`."""

from __future__ import annotations

from .backends import MemoryStoreBackend
from .base import Store
from .base import StoreBackend
from .factory import create_store

__all__ = ["Store", "StoreBackend", "create_store", "default_store"]

_process_store: Store | None = None


def default_store() -> Store:
    """The store of the current app's first :class:`~flask_mcp.FlaskMCP`.

    Helpers created at import time (discovery caches, verifiers) take their
    store from here on first use. Outside an app context, or in an app without
    the extension, they fall back to a store of this process.
    """
    global _process_store
    from flask import current_app
    from flask import has_app_context

    if has_app_context():
        states = current_app.extensions.get("mcp")
        if states:
            return next(iter(states.values())).store
    if _process_store is None:
        _process_store = Store(MemoryStoreBackend(), "mcp:")
    return _process_store
