"""The :class:`Store`: every piece of shared state goes through it.

It wraps one backend (see :class:`StoreBackend`) and adds a key namespace, so
several :class:`~flask_mcp.FlaskMCP` instances (or several apps) can share
one Redis database or folder without reading each other's keys. It also
turns backend failures into :class:`~flask_mcp.store.StoreUnavailable` and
logs each outage once (see :mod:`flask_mcp.store.health`).
"""

from __future__ import annotations

import logging
import threading
import time
import typing as t
from contextlib import AbstractContextManager
from contextlib import contextmanager

from .. import signals
from .errors import LockTimeout
from .errors import StoreError
from .errors import StoreUnavailable
from .health import Health
from .health import Kind

__all__ = ["Store", "StoreBackend"]

logger = logging.getLogger(__name__)

P = t.ParamSpec("P")
R = t.TypeVar("R")

#: Shortest time-to-live passed to a backend, in seconds.
_MIN_TTL = 0.001


@t.runtime_checkable
class StoreBackend(t.Protocol):
    """What a backend offers; implement it to plug in another store.

    Keys are strings, values anything :mod:`pickle` can write, ``ttl`` a
    positive number of seconds. Every method raises
    :class:`~flask_mcp.store.StoreUnavailable` when the backend cannot answer
    (an :class:`OSError` is converted for you) and treats an unreadable entry
    as missing. ``get`` and ``take`` return ``None`` for a missing entry.
    """

    def get(self, key: str) -> t.Any:
        """The live value of ``key``, or ``None``."""

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds."""

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        """Store ``value`` only if ``key`` has no live value; atomic across
        every process sharing the backend."""

    def delete(self, key: str) -> None:
        """Remove ``key`` if present."""

    def take(self, key: str) -> t.Any:
        """Remove ``key`` and return its live value: of racing callers in any
        process, exactly one gets it."""

    def incr(self, key: str, ttl: float) -> int:
        """Add one to an integer (a missing or non-integer value counts as 0),
        keep it ``ttl`` seconds and return it; atomic."""

    def lock(self, name: str, timeout: float) -> AbstractContextManager[None]:
        """An exclusive lock across processes, waited for at most ``timeout``
        seconds (then :class:`~flask_mcp.store.LockTimeout`)."""

    def remove_expired(self) -> int:
        """Delete expired entries; how many. ``0`` where they expire by
        themselves."""


class Store:
    """Shared key-value state with time-to-live, atomic take and locks.

    :param backend: a backend from :mod:`flask_mcp.store.backends`, or your own.
    :param namespace: prefix for every key of this store.
    :param health: outage tracking shared with the parent store; one per
        backend by default.

    Every method raises :class:`~flask_mcp.store.StoreUnavailable` while the
    backend is down; the first failure of an outage is logged as a warning and
    the first success after it as info.
    """

    def __init__(
        self,
        backend: StoreBackend,
        namespace: str = "mcp:",
        *,
        health: Health | None = None,
    ) -> None:
        self.backend = backend
        self.namespace = namespace
        self.health = health or Health(repr(backend))

    def child(self, namespace: str) -> Store:
        """A view of the same backend under a longer prefix."""
        return Store(self.backend, f"{self.namespace}{namespace}", health=self.health)

    def _call(
        self, kind: Kind, fn: t.Callable[P, R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        result = self._attempt(kind, fn, *args, **kwargs)
        self.health.succeeded(kind)
        return result

    def _attempt(
        self, kind: Kind, fn: t.Callable[P, R], *args: P.args, **kwargs: P.kwargs
    ) -> R:
        """``fn(...)``; a failure is recorded, a success is for the caller to
        judge (an ``add`` that finds a live entry proves no write works).
        Timed for :data:`~flask_mcp.signals.store_called` while it has
        receivers."""
        timed = signals.store_called.receivers and (
            signals.store_called.has_receivers_for(self.health)
        )
        started = time.perf_counter() if timed else None
        failed = False
        try:
            return fn(*args, **kwargs)
        except LockTimeout:
            raise  # the backend answered: the lock is busy
        except StoreUnavailable as error:
            failed = True
            self.health.failed(kind, error)
            raise
        except OSError as error:  # a disk error, or from a plugged-in backend
            failed = True
            unavailable = StoreUnavailable(f"{type(error).__name__}: {error}")
            self.health.failed(kind, unavailable)
            raise unavailable from error
        finally:
            if started is not None:
                seconds = time.perf_counter() - started
                signals.store_called.send(
                    self.health, kind=kind, seconds=seconds, failed=failed
                )

    def get(self, key: str) -> t.Any:
        """The value of ``key``, or ``None`` if missing, expired or unreadable."""
        return self._call("read", self.backend.get, self.namespace + key)

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds."""
        self._call("write", self.backend.set, self.namespace + key, value, _ttl(ttl))

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        """Store ``value`` only if ``key`` is absent; ``True`` if this call did."""
        added = self._attempt(
            "write", self.backend.add, self.namespace + key, value, _ttl(ttl)
        )
        if added:
            self.health.succeeded("write")
        return added

    def delete(self, key: str) -> None:
        self._call("remove", self.backend.delete, self.namespace + key)

    def take(self, key: str) -> t.Any:
        """Read and delete ``key`` atomically: of racing callers, one gets it."""
        return self._call("remove", self.backend.take, self.namespace + key)

    def incr(self, key: str, ttl: float) -> int:
        """Atomically add one to a counter and return the new value."""
        return self._call("write", self.backend.incr, self.namespace + key, _ttl(ttl))

    @contextmanager
    def lock(self, name: str, timeout: float = 10.0) -> t.Iterator[None]:
        """An exclusive lock shared by every process that uses the store.

        :param timeout: seconds to wait for it.
        :raises LockTimeout: when another holder keeps it longer than that.
        """
        held = self.backend.lock(self.namespace + name, timeout)
        self._call("lock", held.__enter__)
        try:
            yield
        finally:
            self._call("remove", held.__exit__, None, None, None)

    def wait_take(self, key: str, timeout: float, interval: float = 0.02) -> t.Any:
        """Poll for ``key`` until it appears (then take it) or ``timeout`` passes.

        Replies to server-to-client requests arrive on whichever worker the
        client's POST reaches, so the waiting worker can only poll the store.
        A store failure ends the wait at once with
        :class:`~flask_mcp.store.StoreUnavailable`.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = self.take(key)
            if value is not None or time.monotonic() >= deadline:
                return value
            time.sleep(min(interval, max(0.0, deadline - time.monotonic())))

    def remove_expired(self) -> int:
        """Delete expired entries (none where the backend expires by itself);
        how many were removed."""
        return self._call("sweep", self.backend.remove_expired)

    def sweep(self, every: float) -> bool:
        """Remove expired entries in the background, once per ``every`` seconds.

        Called on busy paths; the atomic ``add`` of a lease key makes one
        worker of the whole deployment do the sweep. ``True`` if this call
        started one. Housekeeping never fails the caller: a store error here
        only skips the sweep (the outage is logged once, as always).
        """
        try:
            if not self.add("sweep-lease", True, every):
                return False
        except StoreError:
            return False
        threading.Thread(target=self._sweep, daemon=True).start()
        return True

    def _sweep(self) -> None:
        try:
            removed = self.remove_expired()
        except StoreError:
            return
        logger.debug("swept %d expired store entries", removed)


def _ttl(ttl: float) -> float:
    return max(_MIN_TTL, float(ttl))
