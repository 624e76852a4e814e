"""The pulse of the legs a process holds: leases kept, cancellations brought in.

One thread per process (started on first use, again after a fork) renews the
lease of every leg the process holds, so a reader on any host can tell a
slow leg from a dead process, and looks for ``tasks/cancel`` flags, setting
the event behind ``ctx.cancelled`` of the leg on whatever host it runs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
import time
import typing as t

from .repository import StoreTasks

log = logging.getLogger(__name__)


class Heartbeat:
    """Keeps the leases of this process's legs and watches for cancellations.

    :param interval: seconds between looks for cancellations; leases are
        renewed every third of their lifetime. By default half a second, or
        a sixth of the lease when that is shorter: a renewal then comes at
        most half a lease after the last one, however short the lease.
    """

    def __init__(self, repository: StoreTasks, interval: float | None = None) -> None:
        self.repository = repository
        self.interval = min(0.5, repository.lease / 6) if interval is None else interval
        self._held: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._pid = 0
        self._owner = ""
        self._renewed = 0.0

    @property
    def owner(self) -> str:
        """This process, as the owner of the legs it holds."""
        self._started()
        return self._owner

    def hold(self, task_id: str) -> threading.Event:
        """Hold the task's lease from now on; the event is set if the task
        is cancelled. The lease is written before this returns."""
        self._started()
        event = threading.Event()
        self.repository.hold_lease(task_id, self._owner)
        with self._lock:
            self._held[task_id] = event
        return event

    def release(self, task_id: str) -> None:
        with self._lock:
            self._held.pop(task_id, None)
        try:
            self.repository.drop_lease(task_id)
        except Exception as exc:  # it lapses by itself
            log.debug("lease of task %s not dropped: %s", task_id, exc)

    @contextlib.contextmanager
    def holding(self, task_id: str) -> t.Iterator[threading.Event]:
        event = self.hold(task_id)
        try:
            yield event
        finally:
            self.release(task_id)

    def _started(self) -> None:
        """Start the thread in this process (a forked child has none)."""
        pid = os.getpid()
        if pid == self._pid:
            return
        with self._lock:
            if pid == self._pid:
                return
            self._held = {}
            self._owner = f"{socket.gethostname()}:{pid}:{secrets.token_hex(4)}"
            self._pid = pid
            threading.Thread(
                target=self._beat, args=(pid,), name="flask_mcp-heartbeat", daemon=True
            ).start()

    def _beat(self, pid: int) -> None:
        while self._pid == pid:
            time.sleep(self.interval)
            with self._lock:
                held = dict(self._held)
            if not held:
                continue
            try:
                self._pulse(held)
            except Exception as exc:  # the store is down: the leases may lapse
                log.warning("task heartbeat failed: %s", exc)

    def _pulse(self, held: dict[str, threading.Event]) -> None:
        repository = self.repository
        renew = time.monotonic() - self._renewed >= repository.lease / 3
        for task_id, event in held.items():
            if not event.is_set() and repository.cancel_requested(task_id):
                log.info("task %s cancelled: telling its handler", task_id)
                event.set()
            if renew:
                repository.hold_lease(task_id, self._owner)
        if renew:
            self._renewed = time.monotonic()
