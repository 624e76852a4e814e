"""The :class:`Store`: every piece of shared state goes through it.

It wraps one backend (see :class:`StoreBackend`) and adds a key namespace, so
several :class:`~flask_mcp.FlaskMCP` instances (or several apps) can share
one Redis database or folder without reading each other's keys. It also
turns backend failures into :class:`~flask_mcp.store.StoreUnavailable`,
logs each outage once and fails fast while the backend cannot be reached
(see :mod:`flask_mcp.store.health`), and reports what each operation took
(:mod:`flask_mcp.signals`).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import typing as t
from contextlib import AbstractContextManager
from contextlib import contextmanager

from ..signals import store_called
from .errors import LockTimeout
from .errors import StoreError
from .errors import StoreUnavailable
from .health import Health
from .health import Kind

if t.TYPE_CHECKING:
    from .cache_backend import CacheBackend


logger = logging.getLogger(__name__)

P = t.ParamSpec("P")
R = t.TypeVar("R")

#: Shortest time-to-live passed to a backend, in seconds.
_MIN_TTL = 0.001
#: The key a probe reads when the backend has no ``ping``.
_PROBE_KEY = "flask_mcp:probe"


@t.runtime_checkable
class StoreBackend(t.Protocol):
    """What a backend offers; implement it to plug in another store.

    Keys are strings, values JSON data (write them with
    :func:`flask_mcp.store.codec.dumps`, read them with
    :func:`~flask_mcp.store.codec.loads`: bytes that are not JSON are a
    missing entry), ``ttl`` a positive number of seconds. Every method raises
    :class:`~flask_mcp.store.StoreUnavailable` when the backend cannot answer
    (an :class:`OSError` is converted for you; pass ``unreachable=True``
    when it cannot be reached at all, so that the store fails fast) and
    treats an unreadable entry as missing. ``get`` and ``take`` return
    ``None`` for a missing entry.

    A backend may also have a ``ping()`` method, which raises while it
    cannot answer: the probe of an unreachable backend calls it (else it
    reads a key).
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
    :param probe_interval: seconds between two checks of a backend that
        cannot be reached.

    Values are JSON data (see :mod:`flask_mcp.store.codec`). Every method
    raises :class:`~flask_mcp.store.StoreUnavailable` while the backend is
    down, at once (without trying it) while it cannot be reached; each
    process logs the start and the end of an outage once, as warnings (see
    :mod:`flask_mcp.store.health`), and announces both, and the duration of
    each operation, through :mod:`flask_mcp.signals`.
    """

    def __init__(
        self,
        backend: StoreBackend,
        namespace: str = "mcp:",
        *,
        health: Health | None = None,
        probe_interval: float = 0.5,
    ) -> None:
        self.backend = backend
        self.namespace = namespace
        self.health = health or Health(
            repr(backend), functools.partial(_probe, backend), probe_interval
        )
        #: Where entries that may be lost go: the app's Flask-Caching cache
        #: when it has one (:class:`~flask_mcp.FlaskMCP` sets it), else
        #: ``None`` for this store (see :mod:`flask_mcp.store.cache`).
        self.cache: CacheBackend | None = None

    def child(self, namespace: str) -> Store:
        """A view of the same backend under a longer prefix."""
        child = Store(self.backend, f"{self.namespace}{namespace}", health=self.health)
        child.cache = self.cache
        return child

    def _call(
        self,
        op: str,
        kind: Kind,
        fn: t.Callable[P, R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        result = self._attempt(op, kind, fn, *args, **kwargs)
        self.health.succeeded(kind)
        return result

    def _attempt(
        self,
        op: str,
        kind: Kind,
        fn: t.Callable[P, R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        """``fn(...)``; a failure is recorded, a success is for the caller to
        judge (an ``add`` that finds a live entry proves no write works).
        Timed for :data:`~flask_mcp.signals.store_called` while it has
        receivers."""
        # A lock is always released: it may be a file lock of this process.
        guarded = op != "unlock"
        if not (store_called.receivers and store_called.has_receivers_for(self.health)):
            return self._try(guarded, kind, fn, *args, **kwargs)
        failed = False
        started = time.perf_counter()
        try:
            return self._try(guarded, kind, fn, *args, **kwargs)
        except LockTimeout:
            raise  # the store answered
        except StoreUnavailable:
            failed = True
            raise
        finally:
            store_called.send(
                self.health,
                kind=kind,
                seconds=time.perf_counter() - started,
                failed=failed,
            )

    def _try(
        self,
        guarded: bool,
        kind: Kind,
        fn: t.Callable[P, R],
        *args: P.args,
        **kwargs: P.kwargs,
    ) -> R:
        health = self.health
        if guarded and health.open:
            health.refuse()
        try:
            return fn(*args, **kwargs)
        except LockTimeout:
            raise  # the backend answered: the lock is busy
        except StoreUnavailable as error:
            health.failed(kind, error)
            raise
        except OSError as error:  # a disk error, or from a plugged-in backend
            unavailable = StoreUnavailable(f"{type(error).__name__}: {error}")
            health.failed(kind, unavailable)
            raise unavailable from error

    def get(self, key: str) -> t.Any:
        """The value of ``key``, or ``None`` if missing, expired or unreadable."""
        return self._call("get", "read", self.backend.get, self.namespace + key)

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        """Store ``value`` for ``ttl`` seconds."""
        self._call(
            "set", "write", self.backend.set, self.namespace + key, value, _ttl(ttl)
        )

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        """Store ``value`` only if ``key`` is absent; ``True`` if this call did."""
        added = self._attempt(
            "add", "write", self.backend.add, self.namespace + key, value, _ttl(ttl)
        )
        if added:
            self.health.succeeded("write")
        return added

    def delete(self, key: str) -> None:
        self._call("delete", "remove", self.backend.delete, self.namespace + key)

    def take(self, key: str) -> t.Any:
        """Read and delete ``key`` atomically: of racing callers, one gets it."""
        return self._call("take", "remove", self.backend.take, self.namespace + key)

    def incr(self, key: str, ttl: float) -> int:
        """Atomically add one to a counter and return the new value."""
        return self._call(
            "incr", "write", self.backend.incr, self.namespace + key, _ttl(ttl)
        )

    @contextmanager
    def lock(self, name: str, timeout: float = 10.0) -> t.Iterator[None]:
        """An exclusive lock shared by every process that uses the store.

        :param timeout: seconds to wait for it.
        :raises LockTimeout: when another holder keeps it longer than that.
        """
        held = self.backend.lock(self.namespace + name, timeout)
        self._call("lock", "lock", held.__enter__)
        try:
            yield
        finally:
            self._call("unlock", "remove", held.__exit__, None, None, None)

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
        return self._call("sweep", "sweep", self.backend.remove_expired)

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


def _probe(backend: StoreBackend) -> None:
    """Raise unless ``backend`` answers (its ``ping``, else a read)."""
    ping = getattr(backend, "ping", None)
    if callable(ping):
        ping()
    else:
        backend.get(_PROBE_KEY)
