"""How objects made before the app (verifiers, caches) get the app's store.

An authenticator is usually built at import time, before any app or store
exists. :meth:`FlaskMCP.init_app <flask_mcp.FlaskMCP.init_app>` then calls
:func:`bind_store` on it: anything with a ``bind_store(store)`` method
(:class:`StoreBindable`) takes the app's store, and forwards it to the parts
it is built from (``bearer_auth(verifier)`` to ``verifier``, a
:class:`~flask_mcp.auth.JWTVerifier` to its discovery cache). Anything else
is left alone.

What each object does with it: see :class:`StoreSlot`. A cache that no
``FlaskMCP`` could reach (one used inside a plain ``authenticate``
function) binds itself to the app's store the first time it is used while
that app serves a request.
"""

from __future__ import annotations

import logging
import threading
import typing as t

from flask import current_app
from flask import has_app_context
from flask import has_request_context
from flask import request

from .backends import MemoryStoreBackend
from .cache import CacheBackend
from .cache import SoftCache
from .cache import StoreCacheBackend
from .core import Store

logger = logging.getLogger(__name__)

#: ``app.extensions`` key of the store of the app's first ``FlaskMCP``, which
#: caches that were never bound take when they are used in that app.
APP_STORE = "flask_mcp.store"

#: Owners already warned about, so each warns once per process.
_warned: set[str] = set()
_warned_mutex = threading.Lock()


@t.runtime_checkable
class StoreBindable(t.Protocol):
    """An object that keeps state in the store of the app it serves."""

    def bind_store(self, store: Store) -> None:
        """Use ``store`` from now on (unless given one explicitly)."""


def bind_store(target: object, store: Store) -> bool:
    """Give ``target`` the app's ``store`` if it takes one; ``True`` if it did."""
    if isinstance(target, StoreBindable):
        target.bind_store(store)
        return True
    return False


class StoreSlot:
    """The store of a cache: the one given to its constructor, else the one
    last bound by an app, else a private in-process store.

    Caches (discovery documents, introspection answers) work without any app;
    an app makes them shared by all its workers. A store given explicitly is
    never replaced. Entries that may be lost go through :attr:`cache`: into
    the app's Flask-Caching cache when the bound store names one
    (:attr:`Store.cache <flask_mcp.store.Store.cache>`), else into the store.

    A slot never bound takes the app's store the first time it is used in
    an app with a ``FlaskMCP`` (:data:`APP_STORE`); used elsewhere while
    serving a request of one of several worker processes, it logs a warning
    once per process: its entries are private to the process, so each
    worker fetches on its own.

    :param store: the store passed to the owner's constructor, if any.
    :param owner: how the log names the owner (its class).
    """

    def __init__(self, store: Store | None, owner: str = "cache") -> None:
        self._given = store is not None
        self._bound = self._given
        self.owner = owner
        self._store = store if store is not None else Store(MemoryStoreBackend())
        self._store_cache: tuple[Store, CacheBackend] | None = None
        #: Entries that may be lost (see :mod:`flask_mcp.store.cache`).
        self.cache = SoftCache(self._cache_backend)

    @property
    def store(self) -> Store:
        """The store in use now."""
        if not self._bound:
            self._adopt()
        return self._store

    def bind(self, store: Store) -> None:
        """Use the app's ``store``, unless one was given explicitly."""
        if not self._given:
            self._store = store
            self._bound = True

    def _adopt(self) -> None:
        """Bind to the store of the app being served, if it has one; else
        warn (once) when several processes each keep their own copy."""
        app_store = current_app.extensions.get(APP_STORE) if has_app_context() else None
        if isinstance(app_store, Store):
            self.bind(app_store)
            logger.info(
                "a %s that FlaskMCP was not given now uses the app's store", self.owner
            )
        else:
            self._warn_unbound()

    def _cache_backend(self) -> tuple[CacheBackend, str]:
        store = self.store
        if store.cache is not None:
            return store.cache, store.namespace
        known = self._store_cache
        if known is None or known[0] is not store:
            known = self._store_cache = (store, StoreCacheBackend(store))
        return known[1], store.namespace

    def _warn_unbound(self) -> None:
        if self.owner in _warned or not several_workers():
            return
        with _warned_mutex:
            if self.owner in _warned:
                return
            _warned.add(self.owner)
        logger.warning(
            "a %s is used without a shared store: each of the several worker"
            " processes keeps its own copy and fetches for itself. Give it to"
            " FlaskMCP (authenticate=, auth=) so that init_app binds it, or call"
            " its bind_store() with the app's store.",
            self.owner,
        )


def several_workers() -> bool | None:
    """Whether the request being served runs in one of several processes
    (PEP 3333 ``wsgi.multiprocess``, which gunicorn sets with ``-w 2`` or
    more); ``None`` outside a request."""
    if not has_request_context():
        return None
    return bool(request.environ.get("wsgi.multiprocess"))
