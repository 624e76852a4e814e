"""Executors: where the legs of tasks run.

An executor has a :attr:`~Executor.name` (kept in each task's record), says
whether a queued leg lives only in its process (:attr:`~Executor.holds_leases`)
and queues legs with :meth:`~Executor.submit`. Whatever runs the leg calls
:meth:`TaskService.work <flask_mcp.tasks.TaskService.work>` in a process
where the Flask app exists. To plug in another queue (RQ, a cloud queue),
write such a class and name its factory in ``MCP_TASKS_EXECUTOR``.

:class:`ThreadExecutor`, the default, needs no other service: legs run in a
small pool of threads of the web process that queued them (a process that
dies takes its legs along; their tasks are then failed, see
:mod:`flask_mcp.protocol.tasking.lifecycle`).
"""

from __future__ import annotations

import abc
import concurrent.futures
import logging
import os
import threading
import typing as t

from .._sync import close_thread_loop
from .heartbeat import Heartbeat

log = logging.getLogger(__name__)

#: Runs one leg: ``run(task_id, leg, owner, cancelled)``.
RunLeg = t.Callable[[str, int, str, threading.Event], None]


class Executor(abc.ABC):
    """Queues legs of tasks (the :class:`~flask_mcp.protocol.tasking.ports.Dispatcher`
    the protocol layer sees)."""

    #: Kept in each task's record; names the executor in logs and metrics.
    name: str
    #: ``True`` when a queued leg is lost with the process that queued it.
    holds_leases: bool = False

    @abc.abstractmethod
    def submit(self, task_id: str, leg: int, delay: float = 0.0) -> None:
        """Queue leg ``leg`` of the task to start after ``delay`` seconds.

        :raises flask_mcp.protocol.tasking.ports.DispatchError: when the leg
            cannot be queued.
        """


class ThreadExecutor(Executor):
    """Runs legs in a pool of threads of this process.

    :param run: runs one leg (the service's runner).
    :param heartbeat: keeps the leases of the legs this process holds, from
        the moment they are queued.
    :param threads: legs that run at once in one process; more wait.
    """

    name = "thread"
    holds_leases = True

    def __init__(self, run: RunLeg, heartbeat: Heartbeat, threads: int = 4) -> None:
        self.run = run
        self.heartbeat = heartbeat
        self.threads = threads
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._pid = 0
        self._lock = threading.Lock()

    def submit(self, task_id: str, leg: int, delay: float = 0.0) -> None:
        cancelled = self.heartbeat.hold(task_id)
        self._threads().submit(self._run, task_id, leg, cancelled, delay)

    def _threads(self) -> concurrent.futures.ThreadPoolExecutor:
        """The pool of this process (a forked child builds its own)."""
        with self._lock:
            if self._pool is None or self._pid != os.getpid():
                self._pool = concurrent.futures.ThreadPoolExecutor(
                    self.threads, thread_name_prefix="flask_mcp-task"
                )
                self._pid = os.getpid()
            return self._pool

    def _run(
        self, task_id: str, leg: int, cancelled: threading.Event, delay: float
    ) -> None:
        try:
            if delay > 0:
                cancelled.wait(delay)
            self.run(task_id, leg, self.heartbeat.owner, cancelled)
        except Exception as exc:  # the store failed for longer than allowed
            log.error("task %s: leg %d not run: %s", task_id, leg, exc)
        finally:
            self.heartbeat.release(task_id)
            close_thread_loop()  # an async handler's loop ends with its leg
