"""How objects made before the app (verifiers, caches) get the app's store.

An authenticator is usually built at import time, before any app or store
exists. :meth:`FlaskMCP.init_app <flask_mcp.FlaskMCP.init_app>` then calls
:func:`bind_store` on it: anything with a ``bind_store(store)`` method
(:class:`StoreBindable`) takes the app's store, and forwards it to the parts
it is built from (``bearer_auth(verifier)`` to ``verifier``, a
:class:`~flask_mcp.auth.JWTVerifier` to its discovery cache). Anything else
is left alone.

What each object does with it: see :class:`StoreSlot`.
"""

from __future__ import annotations

import typing as t

from .backends import MemoryStoreBackend
from .core import Store


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
    never replaced.

    :param store: the store passed to the owner's constructor, if any.
    """

    def __init__(self, store: Store | None) -> None:
        self._given = store is not None
        #: The store in use now.
        self.store = store if store is not None else Store(MemoryStoreBackend())

    def bind(self, store: Store) -> None:
        """Use the app's ``store``, unless one was given explicitly."""
        if not self._given:
            self.store = store
