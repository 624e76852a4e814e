"""Outages of a store: one warning when one starts, one when it ends, and
failing fast while the backend cannot be reached.

A store outage fails every request that needs the store; logging each of
them (with a traceback) would bury the one fact that matters. A
:class:`Health` is shared by a :class:`~flask_mcp.store.Store` and its
children, so each process logs an outage once, at WARNING both ways
(gunicorn shows warnings by default, not info).

Two kinds of outage:

* **unreachable** (refused, reset, no answer within the timeout): every
  operation would fail, and a frozen server makes each of them wait for the
  timeout. So the circuit opens: every call raises
  :class:`~flask_mcp.store.StoreUnavailable` at once, without touching the
  backend, while one background thread per process probes it every
  ``probe_interval`` seconds; the first probe that succeeds closes it.
  Requests that need no store keep their speed, and those that need it get
  their 503 in microseconds instead of holding a worker for the timeout.
* **partial**: some kinds of operation fail, quickly (a full disk refuses
  writes but still reads). Nothing is refused in advance; the outage ends
  with the first success of a kind that failed during it, never with a
  success of another kind (that would log "back" and "unavailable" in turn
  on every request).
"""

from __future__ import annotations

import logging
import os
import threading
import time
import typing as t
import weakref

from ..signals import store_recovered
from ..signals import store_unavailable
from .errors import StoreUnavailable

#: ``read``: get; ``write``: set, add, incr; ``remove``: take, delete,
#: releasing a lock; ``lock``: taking one (an empty lock file can still be
#: made on a full disk); ``sweep``: removing expired entries (which may find
#: nothing to do, and so proves nothing about the others).
Kind = t.Literal["read", "write", "remove", "lock", "sweep"]

logger = logging.getLogger(__name__)

#: Every Health of this process, to renew its mutex in a forked child.
_ALL: weakref.WeakSet[Health] = weakref.WeakSet()


class Health:
    """Whether a backend is failing, and since when.

    :param name: how the log names the backend (never with a password).
    :param probe: checks the backend, raising when it still cannot answer;
        ``None``: no circuit (an unreachable backend is then tried by every
        call, as a partial outage is).
    :param probe_interval: seconds between two probes.
    """

    def __init__(
        self,
        name: str,
        probe: t.Callable[[], object] | None = None,
        probe_interval: float = 0.5,
    ) -> None:
        self.name = name
        self.probe = probe
        self.probe_interval = probe_interval
        #: :func:`time.monotonic` of the first failure of this outage, if any.
        self.down_since: float | None = None
        #: The kinds of operation that failed during this outage.
        self.failing: frozenset[Kind] = frozenset()
        #: The kind that failed first.
        self.first: Kind = "read"
        #: Whether the circuit is open: calls fail without being tried.
        self.open = False
        self._prober: int | None = None  # pid of the process whose thread probes
        self._mutex = threading.Lock()
        _ALL.add(self)

    def refuse(self) -> t.NoReturn:
        """Raise what a call gets while the circuit is open; starts a probe
        if this process has none (a forked worker inherits an open circuit
        but not the thread)."""
        if self._prober != os.getpid():
            self._start_probe()
        raise StoreUnavailable(
            f"store {self.name} is unavailable; a background probe checks it"
            f" every {self.probe_interval:g} s",
            unreachable=True,
        )

    def failed(self, kind: Kind, error: StoreUnavailable) -> None:
        """Record a failed call: a warning for the first of an outage; an
        unreachable backend opens the circuit."""
        opens = error.unreachable and self.probe is not None and not self.open
        if kind in self.failing and not opens:
            return
        with self._mutex:
            self.failing |= {kind}
            starts = self.down_since is None
            if starts:
                self.down_since = time.monotonic()
                self.first = kind
            opens = opens and not self.open
            if opens:
                self.open = True
        if starts:
            logger.warning(
                "store %s is unavailable (%s); requests that need it fail"
                " with 503 until it is back",
                self.name,
                str(error),  # not the error: its traceback would pin the store
            )
            store_unavailable.send(self, kind=kind, error=error)
        if opens:
            self._start_probe()

    def succeeded(self, kind: Kind) -> None:
        """Record a call that worked: it ends an outage of its kind."""
        if kind in self.failing and not self.open:
            self._recovered()

    def _recovered(self) -> None:
        with self._mutex:
            if self.down_since is None:
                return
            seconds = time.monotonic() - self.down_since
            kind = self.first
            self.down_since = None
            self.failing = frozenset()
            self.open = False
        logger.warning("store %s is available again after %.1f s", self.name, seconds)
        store_recovered.send(self, kind=kind, seconds=seconds)

    # -- the probe ---------------------------------------------------------

    def _start_probe(self) -> None:
        with self._mutex:
            pid = os.getpid()
            if self._prober == pid:
                return
            self._prober = pid
        # The thread holds the Health weakly: a store that is dropped (its
        # app gone, or a test's) takes its probe with it.
        threading.Thread(
            target=_probe_until_back,
            args=(weakref.ref(self), self.probe_interval),
            name=f"flask_mcp store probe: {self.name}",
            daemon=True,
        ).start()


def _probe_until_back(ref: weakref.ref[Health], interval: float) -> None:
    while True:
        time.sleep(interval)
        health = ref()
        if health is None:
            return
        if not health.open or health.probe is None:
            break
        try:
            health.probe()
        except Exception as error:  # any failure: still down
            logger.debug("store %s probe failed: %s", health.name, error)
            del health
            continue
        health._recovered()
        break
    with health._mutex:
        health._prober = None


def _after_fork() -> None:
    # A mutex held by another thread at fork time would stay held forever in
    # the child, and no probe thread survives a fork.
    for health in list(_ALL):
        health._mutex = threading.Lock()
        health._prober = None


os.register_at_fork(after_in_child=_after_fork)
