"""gunicorn settings and worker for MCP servers with many connected clients.

Use it as gunicorn's configuration, and override what you like on the
command line or in your own configuration file::

    gunicorn -c python:flask_mcp.gunicorn -w 4 -b 127.0.0.1:8000 "app:create_app()"

    # gunicorn.conf.py
    from flask_mcp.gunicorn import *  # noqa: F403
    workers = 4

:class:`ThreadWorker` is gunicorn's ``gthread`` worker whose thread pool
reports to flask_mcp how many threads are busy and how many requests wait
(:mod:`flask_mcp.transport.capacity`). With it, a held stream (a
``subscriptions/listen`` stream, a 2025 GET stream) keeps its thread only
while threads are to spare, and a worker told to stop ends them all at once
with their graceful end. See the deployment guide for the measurements
behind the defaults below.
"""

from __future__ import annotations

import time
import typing as t
from concurrent import futures

from gunicorn.workers import gthread
from gunicorn.workers import sync

from .transport.capacity import WORKER
from .transport.capacity import Capacity

__all__ = [
    "SyncWorker",
    "ThreadWorker",
    "graceful_timeout",
    "keepalive",
    "threads",
    "timeout",
    "worker_class",
]

#: The worker below: threads that held streams give back when needed.
worker_class = "flask_mcp.gunicorn.ThreadWorker"
#: Threads per worker: each held stream occupies one while it waits, idle
#: ones cost a little memory each once started (the pool starts them as
#: needed); requests never wait for one (held streams yield).
threads = 256
#: Seconds a worker's main loop may stall before the arbiter restarts it
#: (gthread runs requests in threads: a long tool call does not count).
timeout = 30
#: Seconds a stopping worker waits for running tool calls; held streams end
#: at once.
graceful_timeout = 30
#: Seconds an idle keep-alive connection stays open.
keepalive = 5

#: Seconds a stopping worker keeps idle keep-alive connections (gunicorn's
#: own default is 2; a client's next request on one is answered with
#: ``Connection: close``).
STOP_KEEPALIVE_LINGER = 1.0


class _ReportingPool(futures.ThreadPoolExecutor):
    """A thread pool that tells the capacity about every job."""

    def __init__(self, max_workers: int, capacity: Capacity) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="gthread")
        self._capacity = capacity
        capacity.attach(max_workers)

    def submit(
        self, fn: t.Callable[..., t.Any], /, *args: t.Any, **kwargs: t.Any
    ) -> futures.Future[t.Any]:
        capacity = self._capacity

        def job() -> t.Any:
            capacity.started()
            try:
                return fn(*args, **kwargs)
            finally:
                capacity.finished()

        capacity.queued()  # may ask held streams to give their threads back
        return super().submit(job)


class ThreadWorker(gthread.ThreadWorker):
    """gunicorn's gthread worker, reporting its threads to flask_mcp."""

    def get_thread_pool(self) -> futures.ThreadPoolExecutor:
        return _ReportingPool(self.cfg.threads, WORKER)

    def handle_exit(self, sig: int, frame: t.Any) -> None:
        super().handle_exit(sig, frame)
        _stop_holds(self)

    def set_accept_enabled(self, enabled: bool) -> None:
        if not enabled and not self.alive:
            # The drain begins. gunicorn would stop accepting here, and the
            # connections that arrive while running calls finish would be
            # reset when the listener closes; they are served instead (with
            # ``Connection: close``; a held stream ends at once).
            return
        super().set_accept_enabled(enabled)

    def _cap_keepalive(self, deadline: float) -> None:
        # The start of gunicorn's drain, whatever stopped the worker (a
        # signal, max_requests): held streams end now, not when they would.
        WORKER.stop()
        super()._cap_keepalive(min(deadline, time.monotonic() + STOP_KEEPALIVE_LINGER))


class SyncWorker(sync.SyncWorker):
    """gunicorn's sync worker, ending its held stream when told to stop.

    A sync worker cannot tell whether requests wait, so its streams are held
    ``MCP_STREAM_HOLD`` / ``MCP_LISTEN_HOLD`` seconds; prefer
    :class:`ThreadWorker`.
    """

    def handle_exit(self, sig: int, frame: t.Any) -> None:
        super().handle_exit(sig, frame)
        _stop_holds(self)


def _stop_holds(worker: t.Any) -> None:
    """From a signal handler: no locks here. The holds see the flag when
    they next wake; the gthread worker's method queue (safe to use from a
    signal handler) wakes them at once."""
    WORKER.request_stop()
    queue = getattr(worker, "method_queue", None)
    if queue is not None:
        queue.defer(WORKER.stop)
