"""Counted slots: at most ``cap`` holders of one thing at once, across every
worker and host.

Slot ``i`` of an owner is the key ``<prefix><i>``, taken atomically with
:meth:`~flask_mcp.store.Store.add` and a lifetime, so a holder that dies
never keeps its slot past that lifetime. Fair share of held streams
(:mod:`flask_mcp.transport.fairshare`) and the cap on active tasks
(:mod:`flask_mcp.tasks.slots`) count this way.
"""

from __future__ import annotations

import hashlib
import random
import typing as t

from .core import Store


def slot_prefix(kind: str, owner: str) -> str:
    """Where the slots of ``owner`` (a principal, an address) live: its
    digest, so that no owner's text ends up in a key."""
    digest = hashlib.sha256(owner.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{kind}:{digest[:32]}:"


def take_slot(
    store: Store, prefix: str, cap: int, holder: t.Any, ttl: float
) -> str | None:
    """The key of a free slot of the ``cap`` under ``prefix``, now held by
    ``holder`` for ``ttl`` seconds; ``None`` when every one is held.

    :raises StoreUnavailable: the store cannot count.
    """
    first = random.randrange(cap)  # spread the search: fewer adds when busy
    for index in range(cap):
        key = f"{prefix}{(first + index) % cap}"
        if store.add(key, holder, ttl):
            return key
    return None
