"""Which records of one kind exist, listable on every backend.

A store answers ``get`` by key, never "which keys are there": the file
backend names its files by a hash of the key, and on a Redis Cluster a key
scan visits every node. Operator commands still need to list sessions,
clients and approvals, so the code that writes such a record also notes its
name here (:meth:`KeyIndex.add`), with the same lifetime.

The index is made of single-key operations only (``add``, ``incr``,
``set``: atomic on every backend, each key in its own hash slot): names are
noted in time buckets, ``index:<kind>:<bucket>:<n>``, numbered by a counter
per bucket. Noting a name costs one ``add`` (a marker that it is noted for
this bucket) and, the first time per bucket, an ``incr`` and a ``set``; a
name just made (a new session id) costs the ``incr`` and the ``set`` only.
Listing reads the buckets a live record can be noted in; the caller then
loads each record, which may have ended meanwhile.
"""

from __future__ import annotations

import math
import time
import typing as t

from .core import Store

#: Buckets per lifetime: a name is noted again at most this often per
#: lifetime, and a listing reads this many buckets (plus two).
BUCKETS = 8


class KeyIndex:
    """The names of the live records of one ``kind`` in ``store``.

    :param ttl: the records' lifetime in seconds (renewed on every write of
        a sliding record): a name noted is listed for that long.
    """

    def __init__(self, store: Store, kind: str, ttl: float) -> None:
        self.store = store
        self.kind = kind
        self.width = max(1.0, ttl / BUCKETS)
        #: How long index entries live: a name noted at the start of a
        #: bucket must outlive a record written at its end.
        self.ttl = ttl + 2 * self.width

    def add(self, name: str, *, new: bool = False) -> None:
        """Note ``name`` (again); cheap when it is already noted recently.

        :param new: the caller just made the name (a fresh random id): it
            cannot be noted yet, and the check is skipped (two writes).
        """
        bucket = int(time.time() // self.width)
        prefix = f"index:{self.kind}:{bucket}"
        if not new and not self.store.add(f"{prefix}:has:{name}", 1, self.width * 2):
            return
        number = self.store.incr(f"{prefix}:n", self.ttl)
        self.store.set(f"{prefix}:{number}", name, self.ttl)

    def names(self) -> t.Iterator[str]:
        """Every name noted within the lifetime, once each, newest bucket first."""
        now = int(time.time() // self.width)
        oldest = now - math.ceil(self.ttl / self.width)
        seen: set[str] = set()
        for bucket in range(now, oldest - 1, -1):
            prefix = f"index:{self.kind}:{bucket}"
            count = self.store.get(f"{prefix}:n")
            if not isinstance(count, int):
                continue
            for number in range(1, count + 1):
                name = self.store.get(f"{prefix}:{number}")
                if isinstance(name, str) and name not in seen:
                    seen.add(name)
                    yield name
