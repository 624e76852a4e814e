"""Task records in the shared store, so any process of any host serves them.

Keys, under the server's namespace:

* ``task:<id>``: the :class:`~flask_mcp.protocol.tasking.record.TaskRecord`
  as JSON, kept until the task's lifetime ends;
* ``task-out:<id>``: the result or error of a finished task, apart from the
  record so that polling never reads a large result twice;
* ``task-lease:<id>``: renewed by the process holding the task's current
  leg; when it lapses, the process is gone;
* ``task-cancel:<id>``: set by ``tasks/cancel`` for the leg's process;
* ``task-note:<id>``: the running leg's progress (its status message),
  written by the leg alone, without the task's lock;
* ``tasks-of:<scope>``: the tasks a principal (or session) may list (2025).

Records are written under the task's lock (:meth:`Store.lock`), so two
processes changing one task never lose an update.
"""

from __future__ import annotations

import time
import typing as t

from ..protocol.tasking.ports import Outcome
from ..protocol.tasking.record import TaskRecord
from ..store import Store

#: Seconds a record outlives its task's lifetime (clock skew between hosts).
GRACE = 5.0
#: Tasks listed per scope; older ones drop out of ``tasks/list`` first.
MAX_LISTED = 1000
#: Seconds between sweeps of expired entries, started by task creation
#: (stores that expire entries by themselves skip them).
SWEEP_EVERY = 300.0


class StoreTasks:
    """A :class:`~flask_mcp.protocol.tasking.ports.TaskRepository` over a
    :class:`~flask_mcp.store.Store`.

    :param lease: seconds a lease lives without renewal.
    :param lock_timeout: seconds to wait for a task's lock.
    """

    def __init__(self, store: Store, *, lease: float, lock_timeout: float = 10.0):
        self.store = store
        self.lease = lease
        self.lock_timeout = lock_timeout

    # -- records -----------------------------------------------------------

    def create(self, record: TaskRecord) -> None:
        self.store.sweep(every=SWEEP_EVERY)  # expired tasks leave the file store
        if not self.store.add(
            f"task:{record.id}", record.to_json(), record.remaining() + GRACE
        ):
            raise RuntimeError(f"task id {record.id!r} is taken")

    def get(self, task_id: str) -> TaskRecord | None:
        return TaskRecord.from_json(self.store.get(f"task:{task_id}"))

    def change(
        self,
        task_id: str,
        edit: t.Callable[[TaskRecord], bool],
        outcome: Outcome | None = None,
    ) -> TaskRecord | None:
        with self.store.lock(f"task:{task_id}", self.lock_timeout):
            record = self.get(task_id)
            if record is None or not edit(record):
                return record
            ttl = max(1.0, record.remaining() + GRACE)
            if outcome is not None:
                self.store.set(f"task-out:{task_id}", outcome, ttl)
            self.store.set(f"task:{task_id}", record.to_json(), ttl)
            return record

    def outcome(self, task_id: str) -> Outcome | None:
        value = self.store.get(f"task-out:{task_id}")
        return t.cast(Outcome, value) if isinstance(value, dict) else None

    def note(self, task_id: str, progress: dict[str, t.Any], ttl: float) -> None:
        self.store.set(f"task-note:{task_id}", progress, ttl + GRACE)

    def progress(self, task_id: str) -> dict[str, t.Any] | None:
        value = self.store.get(f"task-note:{task_id}")
        return t.cast(dict[str, t.Any], value) if isinstance(value, dict) else None

    # -- leases and cancellation ---------------------------------------------

    def hold_lease(self, task_id: str, owner: str) -> None:
        self.store.set(f"task-lease:{task_id}", owner, self.lease)

    def drop_lease(self, task_id: str) -> None:
        self.store.delete(f"task-lease:{task_id}")

    def lease_alive(self, task_id: str) -> bool:
        return self.store.get(f"task-lease:{task_id}") is not None

    def request_cancel(self, task_id: str, ttl: float) -> None:
        self.store.set(f"task-cancel:{task_id}", True, ttl)

    def cancel_requested(self, task_id: str) -> bool:
        return self.store.get(f"task-cancel:{task_id}") is True

    # -- listing (2025-11-25) ------------------------------------------------

    def index(self, scope: str, task_id: str, ttl: float) -> None:
        now = time.time()
        key = f"tasks-of:{scope}"
        with self.store.lock(key, self.lock_timeout):
            entries = [e for e in self._entries(key) if e[1] > now]
            entries.append([task_id, now + ttl])
            entries = entries[-MAX_LISTED:]
            self.store.set(key, entries, max(e[1] for e in entries) - now + GRACE)

    def listed(self, scope: str) -> list[str]:
        now = time.time()
        return [e[0] for e in self._entries(f"tasks-of:{scope}") if e[1] > now]

    def _entries(self, key: str) -> list[list[t.Any]]:
        value = self.store.get(key)
        if not isinstance(value, list):
            return []
        return [
            e
            for e in value
            if isinstance(e, list)
            and len(e) == 2
            and isinstance(e[0], str)
            and isinstance(e[1], (int, float))
        ]
