"""The cap on each principal's active tasks, counted in the shared store.

One client must not flood the workers (or the Celery queue) with tasks. A
task that is ``working`` or ``input_required`` holds one of its principal's
``MCP_TASKS_PER_PRINCIPAL`` slots; past the cap, creating a task is answered
with HTTP 429 (:class:`~flask_mcp.protocol.tasking.ports.TooManyTasks`).

The slots are counted in the store (:mod:`flask_mcp.store.counted`), as
the fair share of held streams counts its own, so the cap holds across
workers and hosts. Unlike a held stream, a task is not tied to a live process: one
waiting for input runs nowhere, and a Celery leg may wait in the broker. A
slot renewed by a heartbeat would lapse under such a task, so a slot is not
a lease. It is held for the task's whole lifetime (its ``ttlMs``) and
freed by the change that makes the task terminal, in whatever process makes
it (:class:`~flask_mcp.protocol.tasking.lifecycle.Lifecycle`).

A task whose process died never makes that change by itself. When all of a
principal's slots are held, the holders are checked (at most once per
:attr:`StoreSlots.recheck` seconds, so a client knocking at a full cap
costs little): a slot whose task is gone, finished, or lost (its leg's
lease lapsed: it is failed then, like any reader failing it) is taken back.
So a dead worker's slot is free within the task lease plus ``recheck``, and
any slot lapses with its task's lifetime at the latest.
"""

from __future__ import annotations

import logging
import time
import typing as t

from ..protocol.tasking.ports import TooManyTasks
from ..store import Store
from ..store import StoreError
from ..store.counted import slot_prefix
from ..store.counted import take_slot

log = logging.getLogger(__name__)

#: Seconds a slot outlives its task's lifetime (clock skew between hosts).
GRACE = 5.0
#: Seconds a slot whose task record is not (yet) readable is left alone:
#: the slot is taken just before the record is written.
YOUNG = 10.0


class StoreSlots:
    """A :class:`~flask_mcp.protocol.tasking.ports.TaskSlots` over a store.

    :param cap: active tasks one principal may have (``0``: no cap).
    :param retry_after: seconds a refused client is asked to wait.
    :param recheck: seconds between checks of a full cap's holders.
    """

    def __init__(
        self, store: Store, cap: int, *, retry_after: float, recheck: float = 5.0
    ) -> None:
        self.store = store
        self.cap = cap
        self.retry_after = retry_after
        self.recheck = recheck

    def take(
        self,
        principal: str,
        task_id: str,
        ttl: float,
        active: t.Callable[[str], bool],
    ) -> str | None:
        """See :meth:`~flask_mcp.protocol.tasking.ports.TaskSlots.take`.

        :raises StoreUnavailable: the store cannot count.
        """
        if not self.cap:
            return None
        prefix = slot_prefix("task-slot", principal)
        holder = {"task": task_id, "at": time.time()}
        slot = take_slot(self.store, prefix, self.cap, holder, ttl + GRACE)
        if slot is None and self.store.add(f"{prefix}checked", True, self.recheck):
            if self._reclaim(prefix, active):
                slot = take_slot(self.store, prefix, self.cap, holder, ttl + GRACE)
        if slot is None:
            raise TooManyTasks(
                f"this principal has {self.cap} active tasks already;"
                " wait for one to finish, or cancel one",
                self.retry_after,
            )
        return slot

    def free(self, slot: str, task_id: str) -> None:
        """See :meth:`~flask_mcp.protocol.tasking.ports.TaskSlots.free`."""
        try:
            # A slot taken back meanwhile may be another task's: ours only.
            if _task_of(self.store.get(slot)) == task_id:
                self.store.delete(slot)
        except StoreError as exc:  # it lapses with the task
            log.debug("slot %s not freed: %s", slot, exc)

    def _reclaim(self, prefix: str, active: t.Callable[[str], bool]) -> bool:
        """Take back the slots of tasks that ended without freeing them;
        whether any was."""
        freed = False
        now = time.time()
        for index in range(self.cap):
            key = f"{prefix}{index}"
            value = self.store.get(key)
            task_id = _task_of(value)
            if task_id is None:
                freed = freed or value is None
                continue
            at = value.get("at") if isinstance(value, dict) else None
            if isinstance(at, (int, float)) and now - at < YOUNG:
                continue
            if not active(task_id):
                log.info("task %s ended without freeing its slot; taken back", task_id)
                self.free(key, task_id)
                freed = True
        return freed


def _task_of(value: t.Any) -> str | None:
    task = value.get("task") if isinstance(value, dict) else None
    return task if isinstance(task, str) else None
