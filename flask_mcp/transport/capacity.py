"""What a worker process can spare for held streams, and when to give it back.

A held stream (see :mod:`.holds`) occupies one of the worker's threads while
it waits for changes. That is free while other threads are idle, and costly
the moment a request waits for a thread. The worker's thread pool reports
its jobs here (:class:`ThreadWorker <flask_mcp.gunicorn.ThreadWorker>` does,
through :meth:`Capacity.attach`); in return:

* a new hold is *admitted* only while :data:`RESERVE` threads stay idle
  besides it; otherwise it ends gracefully at once and the client comes back
  after a longer retry;
* when a job is queued and no thread is idle, the oldest holds are asked to
  *yield*: they end gracefully (a listen result, a GET's retry hint) and
  free their threads within milliseconds.

Without a reporting pool (sync workers, the development server, another
WSGI server) the capacity is unknown: holds are neither admitted by it nor
yielded, and last ``MCP_STREAM_HOLD`` / ``MCP_LISTEN_HOLD`` seconds.
"""

from __future__ import annotations

import collections
import random
import threading
import typing as t

#: Threads kept idle for requests; a hold that would take one ends at once.
RESERVE = 2

Admission = t.Literal["long", "short", "none"]


class Yieldable(t.Protocol):
    """A hold, as the capacity sees it."""

    def yield_thread(self) -> None:
        """End gracefully as soon as possible: a request needs the thread."""

    def stop(self) -> None:
        """End gracefully as soon as possible: the worker is stopping."""


class Capacity:
    """The threads of one worker process, and the holds that occupy some."""

    def __init__(self) -> None:
        #: The pool's size; ``None`` while no pool reports (unknown capacity).
        self.threads: int | None = None
        self._busy = 0
        self._waiting = 0
        self._holds: collections.OrderedDict[int, Yieldable] = collections.OrderedDict()
        self._stopping = False
        self._lock = threading.Lock()
        #: Handlers running in threads of their own (streamed calls), which
        #: go on after their stream yields: a stopping worker waits for them.
        self._handlers = 0
        self._idle = threading.Condition(self._lock)

    # -- reported by the pool -----------------------------------------------

    def attach(self, threads: int) -> None:
        """A pool of ``threads`` threads reports its jobs from now on."""
        with self._lock:
            self.threads = threads

    def queued(self) -> None:
        """A job was queued; yield holds if it would otherwise wait."""
        with self._lock:
            self._waiting += 1
            victims = self._victims()
        for hold in victims:
            hold.yield_thread()

    def started(self) -> None:
        with self._lock:
            self._waiting -= 1
            self._busy += 1

    def finished(self) -> None:
        with self._lock:
            self._busy -= 1

    def _victims(self) -> list[Yieldable]:
        """Oldest holds, one per waiting job that no idle thread will take."""
        if self.threads is None:
            return []
        short = self._waiting - (self.threads - self._busy)
        victims = []
        while short > 0 and self._holds:
            _, hold = self._holds.popitem(last=False)
            victims.append(hold)
            short -= 1
        return victims

    # -- used by the holder -------------------------------------------------

    def admit(self, hold: Yieldable) -> Admission:
        """Register ``hold``; how long it may stay.

        ``"long"``: threads are to spare (it may be asked to yield);
        ``"short"``: the capacity is unknown, hold for the fixed time;
        ``"none"``: end at once (no thread to spare, or the worker stops).
        """
        with self._lock:
            if self._stopping:
                return "none"
            if self.threads is not None and self.threads - self._busy < RESERVE:
                return "none"  # this hold's own thread is counted as busy
            self._holds[id(hold)] = hold
            return "short" if self.threads is None else "long"

    def enlist(self, hold: Yieldable) -> bool:
        """Register a stream that may be yielded but is never refused (a
        resumable request stream); ``False`` when the worker stops."""
        with self._lock:
            if self._stopping:
                return False
            self._holds[id(hold)] = hold
            return True

    def release(self, hold: Yieldable) -> None:
        with self._lock:
            self._holds.pop(id(hold), None)

    def request_stop(self) -> None:
        """The worker is stopping (safe in a signal handler: no lock): holds
        end when they next wake, none is admitted."""
        self._stopping = True

    def stop(self) -> int:
        """The worker is stopping: end every hold gracefully and admit no
        more; how many were ended."""
        with self._lock:
            self._stopping = True
            holds = list(self._holds.values())
            self._holds.clear()
        for hold in holds:
            hold.stop()
        return len(holds)

    @property
    def stopping(self) -> bool:
        return self._stopping

    def handler_started(self) -> None:
        with self._lock:
            self._handlers += 1

    def handler_finished(self) -> None:
        with self._lock:
            self._handlers -= 1
            if self._handlers <= 0:
                self._idle.notify_all()

    def wait_handlers(self, timeout: float) -> bool:
        """Wait until no handler runs (a stopping worker, before it exits);
        ``False`` if some still ran after ``timeout`` seconds."""
        with self._lock:
            return self._idle.wait_for(lambda: self._handlers <= 0, timeout)


def backoff(retry_ms: int) -> int:
    """A reconnection delay for a stream ended for want of threads: longer
    than usual and spread, so returning clients do not arrive together."""
    base = max(retry_ms, 1000)
    return base + random.randrange(base)


#: This process's capacity (a gunicorn worker is one process).
WORKER = Capacity()
