"""One log line when the store goes away, one when it comes back.

A store outage fails every request that needs the store; logging each of
them (with a traceback) would bury the one fact that matters. A
:class:`Health` is shared by a :class:`~flask_mcp.store.Store` and its
children, so each process logs an outage once.

An outage may hit some kinds of operation only: a full disk refuses writes
but still reads and deletes. So it ends with the first success of a kind
that failed during it, never with a success of another kind: that would log
"back" and "unavailable" in turn on every request.
"""

from __future__ import annotations

import logging
import threading
import time
import typing as t

from .. import signals

__all__ = ["Health", "Kind"]

#: ``read``: get; ``write``: set, add, incr; ``remove``: take, delete,
#: releasing a lock; ``lock``: taking one (an empty lock file can still be
#: made on a full disk); ``sweep``: removing expired entries (which may find
#: nothing to do, and so proves nothing about the others).
Kind = t.Literal["read", "write", "remove", "lock", "sweep"]

logger = logging.getLogger(__name__)


class Health:
    """Whether the last call to a backend failed, and since when.

    :param name: how the log names the backend (never with a password).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        #: :func:`time.monotonic` of the first failure of this outage, if any.
        self.down_since: float | None = None
        #: The kinds of operation that failed during this outage.
        self.failing: frozenset[Kind] = frozenset()
        self._mutex = threading.Lock()

    def failed(self, kind: Kind, error: Exception) -> None:
        """Record a failed call: a warning for the first of an outage."""
        if kind in self.failing:
            return
        with self._mutex:
            self.failing |= {kind}
            if self.down_since is None:
                self.down_since = time.monotonic()
                signals.store_unavailable.send(self, kind=kind, error=error)
                logger.warning(
                    "store %s is unavailable (%s); requests that need it fail"
                    " with 503 until it is back",
                    self.name,
                    error,
                )

    def succeeded(self, kind: Kind) -> None:
        """Record a call that worked: an info line if it ends an outage."""
        if kind not in self.failing:
            return
        with self._mutex:
            if self.down_since is not None and kind in self.failing:
                seconds = time.monotonic() - self.down_since
                signals.store_recovered.send(self, kind=kind, seconds=seconds)
                logger.info(
                    "store %s is available again after %.1f s", self.name, seconds
                )
                self.down_since = None
                self.failing = frozenset()
