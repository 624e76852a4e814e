"""The cap on a principal's active tasks over a real (file) store: slots
taken at creation, given back by the change that ends the task, taken back
from a task whose worker died, and lapsing with the task's lifetime.

The store, the repository and the state machine are the real ones; the
clock is the test's (``clock``), legs are recorded, not run.
"""

from __future__ import annotations

import hashlib
import typing as t
from pathlib import Path

import pytest

from flask_mcp.protocol.tasking import TooManyTasks
from flask_mcp.protocol.tasking.lifecycle import Asked
from flask_mcp.protocol.tasking.lifecycle import Completed
from flask_mcp.protocol.tasking.lifecycle import Lifecycle
from flask_mcp.protocol.tasking.lifecycle import TaskPolicy
from flask_mcp.protocol.tasking.record import TaskRecord
from flask_mcp.store import Store
from flask_mcp.store.backends.files import FileStoreBackend
from flask_mcp.tasks.repository import StoreTasks
from flask_mcp.tasks.slots import YOUNG
from flask_mcp.tasks.slots import StoreSlots
from flask_mcp.tasks.task_settings import TaskSettings
from support.clock import Clock

CAP = 2
LEASE = 10.0


class Dispatcher:
    name = "thread"
    holds_leases = True

    def __init__(self) -> None:
        self.sent: list[tuple[str, int, float]] = []

    def submit(self, task_id: str, leg: int, delay: float = 0.0) -> None:
        self.sent.append((task_id, leg, delay))


class Events:
    def changed(self, record: TaskRecord, outcome: t.Any) -> None:
        pass


class Parts(t.NamedTuple):
    lifecycle: Lifecycle
    repository: StoreTasks
    slots: StoreSlots
    store: Store
    clock: Clock


@pytest.fixture
def parts(tmp_path: Path, clock: Clock) -> Parts:
    # No background sweeper: its sleep would move the test's clock.
    store = Store(FileStoreBackend(str(tmp_path / "store"), sweep_interval=0), "t:")
    repository = StoreTasks(store, lease=LEASE)
    slots = StoreSlots(store, CAP, retry_after=1.0, recheck=5.0)
    policy = TaskPolicy(ttl_ms=600_000, lease=LEASE)
    lifecycle = Lifecycle(
        repository, Dispatcher(), Events(), policy, clock.time, slots=slots
    )
    return Parts(lifecycle, repository, slots, store, clock)


_count = iter(range(1_000_000))


def open_task(parts: Parts, principal: str | None = "alice") -> TaskRecord:
    now = parts.clock.time()
    record = TaskRecord(
        id=f"task-{next(_count)}",
        version="2026-07-28",
        principal=principal,
        session=None,
        tool="job",
        arguments={},
        created=now,
        updated=now,
        ttl_ms=600_000,
        poll_ms=1000,
    )
    return parts.lifecycle.open(record)


def run_leg(parts: Parts, record: TaskRecord, owner: str = "w1") -> None:
    """A worker claims the leg and holds its lease (as the heartbeat does)."""
    assert parts.lifecycle.begin(record.id, record.leg, owner) is not None
    parts.repository.hold_lease(record.id, owner)


def test_the_task_past_the_cap_is_refused_and_not_stored(parts: Parts) -> None:
    for _ in range(CAP):
        assert open_task(parts).slot is not None
    before = parts.lifecycle.dispatcher.sent[:]  # type: ignore[attr-defined]
    with pytest.raises(TooManyTasks, match="2 active tasks") as refused:
        open_task(parts)
    assert refused.value.retry_after == 1.0
    # Nothing of the refused task was stored or queued.
    assert parts.lifecycle.dispatcher.sent == before  # type: ignore[attr-defined]
    assert parts.repository.get(f"task-{next(_count) - 1}") is None
    # Another principal has slots of its own; without a principal (no
    # authentication) nothing is counted.
    assert open_task(parts, "bob").slot is not None
    for _ in range(CAP + 1):
        assert open_task(parts, None).slot is None


def test_no_cap_takes_no_slot(parts: Parts) -> None:
    parts.slots.cap = 0
    assert all(open_task(parts).slot is None for _ in range(CAP + 3))
    assert TaskSettings.from_config({"MCP_TASKS_PER_PRINCIPAL": 0}).per_principal == 0
    assert TaskSettings.from_config({}).per_principal == 32
    with pytest.raises(ValueError, match="MCP_TASKS_PER_PRINCIPAL"):
        TaskSettings.from_config({"MCP_TASKS_PER_PRINCIPAL": -1})


@pytest.mark.parametrize("end", ["completed", "cancelled", "failed"])
def test_a_task_that_ends_gives_its_slot_back(parts: Parts, end: str) -> None:
    first = open_task(parts)
    open_task(parts)
    run_leg(parts, first)
    lifecycle = parts.lifecycle
    if end == "completed":
        lifecycle.end(first.id, first.leg, "w1", Completed({"content": []}))
    elif end == "cancelled":
        lifecycle.cancel(first.id)
    else:
        lifecycle._fail(first.id, "broken")
    assert lifecycle.find(first.id).status == end  # type: ignore[union-attr]
    assert parts.store.get(t.cast(str, first.slot)) is None
    third = open_task(parts)  # no recheck needed: the slot was freed
    assert third.slot == first.slot
    with pytest.raises(TooManyTasks):
        open_task(parts)


def test_a_task_waiting_for_input_keeps_its_slot(parts: Parts) -> None:
    asking, working = open_task(parts), open_task(parts)
    run_leg(parts, asking)
    run_leg(parts, working)
    parts.lifecycle.end(asking.id, asking.leg, "w1", Asked({}, {}, {}))
    # Long past the lease and every recheck: nobody runs the asking task,
    # yet it is active, and so is the working one (its lease is renewed).
    for _ in range(4):
        parts.clock.advance(LEASE * 3)
        parts.repository.hold_lease(working.id, "w1")
        with pytest.raises(TooManyTasks):
            open_task(parts)
    assert parts.lifecycle.find(asking.id).status == "input_required"  # type: ignore[union-attr]


def test_the_slot_of_a_task_whose_worker_died_lapses(parts: Parts) -> None:
    dead, alive = open_task(parts), open_task(parts)
    run_leg(parts, dead, "w-dead")
    run_leg(parts, alive, "w-alive")
    # Within the lease the dead worker's task still counts.
    parts.clock.advance(LEASE / 2)
    with pytest.raises(TooManyTasks):
        open_task(parts)
    # The dead worker stops renewing; the live one goes on.
    for _ in range(3):
        parts.clock.advance(LEASE / 2 + 1)
        parts.repository.hold_lease(alive.id, "w-alive")
    replacement = open_task(parts)
    assert replacement.slot == dead.slot
    lost = parts.lifecycle.find(dead.id)
    assert lost is not None and lost.status == "failed"
    assert "no heartbeat" in (lost.message or "")
    assert parts.lifecycle.find(alive.id).status == "working"  # type: ignore[union-attr]
    with pytest.raises(TooManyTasks):
        open_task(parts)


def test_a_full_cap_is_checked_at_most_once_per_recheck(
    parts: Parts, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(CAP):
        run_leg(parts, open_task(parts))
    checked: list[str] = []
    active = parts.lifecycle._active

    def counting(task_id: str) -> bool:
        checked.append(task_id)
        return active(task_id)

    monkeypatch.setattr(parts.lifecycle, "_active", counting)
    parts.clock.advance(YOUNG + 1)
    for task_id in _holders(parts):
        parts.repository.hold_lease(task_id, "w1")
    for _ in range(5):  # a client knocking at its full cap
        with pytest.raises(TooManyTasks):
            open_task(parts)
    assert len(checked) == CAP  # one check of each holder, not five
    parts.clock.advance(5.5)
    with pytest.raises(TooManyTasks):
        open_task(parts)
    assert len(checked) == 2 * CAP


def test_slots_lapse_with_the_tasks_lifetime(parts: Parts) -> None:
    first = open_task(parts)
    open_task(parts)
    parts.clock.advance(600 + 10)  # past ttlMs and the grace
    assert parts.store.get(t.cast(str, first.slot)) is None
    assert open_task(parts).slot is not None


def test_a_slot_of_a_task_not_yet_stored_is_left_alone(parts: Parts) -> None:
    """The slot is taken just before the record is written: a check in that
    moment must not take it back."""
    slots = parts.slots
    slots.take("carol", "being-written", 60, lambda task_id: False)
    slots.take("carol", "gone", 60, lambda task_id: False)
    parts.clock.advance(YOUNG / 2)
    with pytest.raises(TooManyTasks):
        slots.take("carol", "third", 60, lambda task_id: False)
    parts.clock.advance(YOUNG)  # the recheck and YOUNG have passed: a real loss
    assert slots.take("carol", "third", 60, lambda task_id: False) is not None


def test_a_slot_is_freed_only_by_its_own_task(parts: Parts) -> None:
    slot = parts.slots.take("dave", "mine", 60, lambda task_id: True)
    assert slot is not None
    parts.slots.free(slot, "someone-else")
    assert parts.store.get(slot) is not None
    parts.slots.free(slot, "mine")
    assert parts.store.get(slot) is None


def _holders(parts: Parts) -> list[str]:
    """The tasks holding alice's slots."""
    digest = hashlib.sha256(b"alice").hexdigest()[:32]
    values = [parts.store.get(f"task-slot:{digest}:{i}") for i in range(CAP)]
    return [v["task"] for v in values if isinstance(v, dict)]
