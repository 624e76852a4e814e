"""One log line when the store goes away, one when it comes back.

A store outage fails every request that needs the store; logging each of
them (with a traceback) would bury the one fact that matters. A
:class:`Health` is shared by a :class:`~flask_mcp.store.Store` and its
children, so each process logs an outage once.
"""

from __future__ import annotations

import logging
import threading
import time

__all__ = ["Health"]

logger = logging.getLogger("flask_mcp.store")


class Health:
    """Whether the last call to a backend failed, and since when.

    :param name: how the log names the backend (never with a password).
    """

    def __init__(self, name: str) -> None:
        self.name = name
        #: :func:`time.monotonic` of the first failure of this outage, if any.
        self.down_since: float | None = None
        self._mutex = threading.Lock()

    def failed(self, error: Exception) -> None:
        """Record a failed call: a warning for the first of an outage."""
        if self.down_since is not None:
            return
        with self._mutex:
            if self.down_since is None:
                self.down_since = time.monotonic()
                logger.warning(
                    "store %s is unavailable (%s); requests that need it fail"
                    " with 503 until it is back",
                    self.name,
                    error,
                )

    def succeeded(self) -> None:
        """Record a call that worked: an info line if it ends an outage."""
        if self.down_since is None:
            return
        with self._mutex:
            if self.down_since is not None:
                logger.info(
                    "store %s is available again after %.1f s",
                    self.name,
                    time.monotonic() - self.down_since,
                )
                self.down_since = None
