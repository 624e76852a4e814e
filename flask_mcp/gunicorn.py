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

import threading
import time
import typing as t
from concurrent import futures

import gunicorn
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

# The worker extends gthread's event loop of gunicorn 27 (its method queue,
# thread pool factory and drain); older releases lay it out otherwise.
if int(gunicorn.__version__.split(".")[0]) < 27:  # pragma: no cover
    raise ImportError(
        f"flask_mcp.gunicorn needs gunicorn 27 or later, not {gunicorn.__version__}"
    )

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
STOP_KEEPALIVE_LINGER = 0.5
#: Seconds between looks, in a draining worker, at whether the work that
#: was running when it began is done.
DRAIN_POLL = 0.05


class _ReportingPool(futures.ThreadPoolExecutor):
    """A thread pool that tells the capacity about every job."""

    def __init__(self, max_workers: int, capacity: Capacity) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix="gthread")
        self._capacity = capacity
        capacity.attach(max_workers)
        #: Jobs queued or running (a stopping worker waits for some of them).
        self.outstanding: set[futures.Future[t.Any]] = set()

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
        future = super().submit(job)
        self.outstanding.add(future)
        future.add_done_callback(self.outstanding.discard)
        return future


class ThreadWorker(gthread.ThreadWorker):
    """gunicorn's gthread worker, reporting its threads to flask_mcp."""

    def get_thread_pool(self) -> futures.ThreadPoolExecutor:
        return _ReportingPool(self.cfg.threads, WORKER)

    def handle_exit(self, sig: int, frame: t.Any) -> None:
        super().handle_exit(sig, frame)
        _stop_holds(self)

    def run(self) -> None:
        super().run()
        # Tool calls whose stream yielded run on in threads of their own;
        # their results go to the event log, where the client resumes.
        if not WORKER.wait_handlers(self.cfg.graceful_timeout):
            self.log.warning("worker exiting with tool calls still running")

    def set_accept_enabled(self, enabled: bool) -> None:
        if not enabled and not self.alive and not self._arrivals_refused:
            # The drain begins. gunicorn would stop accepting now, and the
            # connections that arrive while running calls finish would be
            # reset when the listener closes. They are served (with
            # ``Connection: close``; a held stream ends at once) until the
            # work that was running when the drain began is done: arrivals
            # cannot keep the worker alive.
            if not self._watching_drain:
                self._watching_drain = True
                threading.Thread(
                    target=self._refuse_arrivals_when_done,
                    args=(set(self.tpool.outstanding),),
                    name="flask_mcp drain",
                    daemon=True,
                ).start()
            return
        super().set_accept_enabled(enabled)

    _watching_drain = False
    _arrivals_refused = False

    def _refuse_arrivals_when_done(self, running: set[futures.Future[t.Any]]) -> None:
        deadline = time.monotonic() + self.cfg.graceful_timeout
        while time.monotonic() < deadline:
            if all(job.done() for job in running) and WORKER.wait_handlers(0):
                break
            time.sleep(DRAIN_POLL)
        self.method_queue.defer(self._stop_accepting)

    def _stop_accepting(self) -> None:
        self._arrivals_refused = True
        super().set_accept_enabled(False)
        # The calls that were running are done; their kept-alive connections
        # (idle now) need not keep the worker for gunicorn's 2 s linger.
        super()._cap_keepalive(time.monotonic() + STOP_KEEPALIVE_LINGER)

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
