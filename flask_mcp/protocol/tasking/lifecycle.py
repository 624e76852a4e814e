"""Every change of a task's state, in one place.

Each change is made under the task's lock in the shared store (see
:meth:`~.ports.TaskRepository.change`), checks that it still applies (a leg
that finishes after the task was cancelled changes nothing), and is then
announced. Transitions follow both specifications: ``working`` to
``input_required`` and back, and to a terminal status, which never changes
again.

A leg is held by one process at a time (its *owner*), which renews a lease
in the store while it runs. A reader that finds a leg whose lease lapsed
marks the task failed: a worker that died never leaves a task working
forever.

With a cap on active tasks (:class:`~.ports.TaskSlots`), a task takes a
slot of its principal when it opens and gives it back in the change that
makes it terminal, whoever makes it (the leg, a cancel, a reader finding
the leg lost).
"""

from __future__ import annotations

import json
import logging
import time
import typing as t
from dataclasses import dataclass

from ..inputs import InputRequest
from ..jsonrpc import INTERNAL_ERROR
from .ports import Dispatcher
from .ports import DispatchError
from .ports import Outcome
from .ports import TaskEvents
from .ports import TaskRepository
from .ports import TaskSlots
from .record import ASKING
from .record import CANCELLED
from .record import COMPLETED
from .record import DONE
from .record import FAILED
from .record import INPUT_REQUIRED
from .record import QUEUED
from .record import RUNNING
from .record import WORKING
from .record import TaskRecord

log = logging.getLogger(__name__)

Result = dict[str, t.Any]


@dataclass(frozen=True)
class TaskPolicy:
    """Limits and timings of tasks (the ``MCP_TASKS_*`` settings).

    :param ttl_ms: lifetime of a task from its creation.
    :param max_ttl_ms: the longest lifetime a 2025 client may ask for.
    :param poll_ms: the polling interval suggested to clients.
    :param lease: seconds a leg's process may go without renewing its lease
        before the task is declared lost.
    :param max_result: largest result kept, in bytes of JSON.
    """

    ttl_ms: int = 3_600_000
    max_ttl_ms: int = 86_400_000
    poll_ms: int = 1000
    lease: float = 30.0
    max_result: int = 16 * 1024 * 1024

    def lifetime(self, asked_ms: int | None) -> int:
        if asked_ms is None:
            return self.ttl_ms
        return max(1000, min(asked_ms, self.max_ttl_ms))


# -- how a leg ended ---------------------------------------------------------


@dataclass(frozen=True)
class Completed:
    """The request's result (a tool result, ``isError`` or not)."""

    result: Result


@dataclass(frozen=True)
class Failed:
    """A JSON-RPC error: the task fails with it."""

    error: Result


@dataclass(frozen=True)
class Asked:
    """The handler asked what the answers so far do not answer."""

    questions: dict[str, InputRequest]
    answers: dict[str, list[t.Any]]
    state: dict[str, t.Any]


@dataclass(frozen=True)
class Stopped:
    """The handler stopped because the task was cancelled."""


@dataclass(frozen=True)
class Again:
    """Run the leg again after ``delay`` seconds (a retry the tool allows)."""

    delay: float


Ending = Completed | Failed | Asked | Stopped | Again


def internal_error(message: str) -> Failed:
    return Failed({"code": INTERNAL_ERROR, "message": message})


class Lifecycle:
    """The state machine of tasks over a :class:`~.ports.TaskRepository`."""

    def __init__(
        self,
        repository: TaskRepository,
        dispatcher: Dispatcher,
        events: TaskEvents,
        policy: TaskPolicy,
        clock: t.Callable[[], float] = time.time,
        slots: TaskSlots | None = None,
    ) -> None:
        self.repository = repository
        self.dispatcher = dispatcher
        self.events = events
        self.policy = policy
        self.clock = clock
        self.slots = slots

    # -- creation ----------------------------------------------------------

    def open(self, record: TaskRecord, scope: str | None = None) -> TaskRecord:
        """Store ``record`` and queue its first leg.

        :param scope: who may list it (2025 ``tasks/list``).
        :raises TooManyTasks: its principal has as many active tasks as it
            may; nothing was stored.
        :raises DispatchError: when the leg cannot be queued; the task is
            then failed, and the caller answers with an error instead of it.
        """
        if self.slots is not None and record.principal is not None:
            record.slot = self.slots.take(
                record.principal,
                record.id,
                max(1.0, record.remaining(self.clock())),
                self._active,
            )
        try:
            self.repository.create(record)
        except BaseException:
            self._free(record)
            raise
        if scope is not None:
            self.repository.index(scope, record.id, record.remaining())
        try:
            self.dispatcher.submit(record.id, record.leg)
        except DispatchError as exc:
            self._fail(record.id, f"The task could not be queued: {exc}")
            raise
        return record

    # -- reading -----------------------------------------------------------

    def find(self, task_id: str) -> TaskRecord | None:
        """The record, with its running leg's latest progress, and with a
        lost leg found out and the task failed."""
        record = self.repository.get(task_id)
        if record is not None and record.phase == RUNNING:
            self._with_progress(record)
        if record is None or not self._lost(record):
            return record
        message = (
            f"The process running this task stopped (no heartbeat for"
            f" {self.policy.lease:g} s); the task was not finished"
        )
        log.warning("task %s lost its %s worker", task_id, record.executor)
        failed = self._fail(task_id, message, check=self._lost)
        return failed or self.repository.get(task_id)

    def _active(self, task_id: str) -> bool:
        """Whether the task holds its slot rightly (for :class:`TaskSlots`):
        it exists and is not finished, or lost (failed here if it is)."""
        record = self.find(task_id)
        return record is not None and not record.terminal

    def _lost(self, record: TaskRecord) -> bool:
        if record.status != WORKING:
            return False
        held = record.phase == RUNNING or (
            record.phase == QUEUED
            and record.executor == self.dispatcher.name
            and self.dispatcher.holds_leases
        )
        return (
            held
            and self.clock() - record.updated > self.policy.lease
            and not self.repository.lease_alive(record.id)
        )

    # -- client actions ----------------------------------------------------

    def cancel(self, task_id: str) -> TaskRecord | None:
        """Cancel a task that is not finished; the running leg sees it
        through ``ctx.cancelled`` on whatever host it runs."""

        def edit(record: TaskRecord) -> bool:
            if record.terminal:
                return False
            record.status = CANCELLED
            record.message = "The task was cancelled by the client"
            record.asks = {}
            return True

        record = self._change(task_id, edit)
        if record is not None and record.status == CANCELLED:
            # Also when it was cancelled before: flagging twice is harmless.
            self.repository.request_cancel(task_id, max(1.0, record.remaining()))
        return record

    def answer(self, task_id: str, responses: dict[str, Result]) -> TaskRecord | None:
        """Record answers to open questions; other keys are ignored (never
        asked, answered already). When none is left open, the next leg is
        queued."""

        resumed = False

        def edit(record: TaskRecord) -> bool:
            nonlocal resumed
            if record.status != INPUT_REQUIRED:
                return False
            given = {k: v for k, v in responses.items() if k in record.asks}
            if not given:
                return False
            for key, response in given.items():
                ask = record.asks.pop(key)
                question = InputRequest(ask["method"], ask["params"])
                record.answers[key] = [question.digest(), response]
            if not record.asks:
                record.status = WORKING
                record.message = None
                record.leg += 1
                record.phase = QUEUED
                record.owner = None
                record.attempt = 0
                resumed = True
            return True

        record = self._change(task_id, edit)
        if record is not None and resumed:
            self._submit(record, 0.0)
        return record

    # -- legs --------------------------------------------------------------

    def begin(self, task_id: str, leg: int, owner: str) -> TaskRecord | None:
        """Claim leg ``leg`` for ``owner``; ``None`` when it must not run
        (finished, cancelled, stale, or already running elsewhere)."""

        def edit(record: TaskRecord) -> bool:
            if record.status != WORKING or record.leg != leg:
                return False
            if record.phase != QUEUED:
                return False  # running elsewhere; a lapsed lease is found by find()
            record.phase = RUNNING
            record.owner = owner
            record.attempt += 1
            return True

        record = self.repository.change(task_id, edit)
        if record is None or record.owner != owner or record.phase != RUNNING:
            return None
        if record.leg != leg:
            return None
        return record

    def progress(self, task_id: str, leg: int, owner: str, message: str) -> None:
        """The running leg's progress becomes the status message.

        It is kept beside the record, not in it: the leg writes it without
        the task's lock, so a process killed while reporting progress never
        leaves the lock held. Readers merge it (:meth:`find`).
        """
        record = self.repository.get(task_id)
        if record is None or not self._holds(record, leg, owner):
            return
        now = self.clock()
        note = {"leg": leg, "message": message, "at": now}
        self.repository.note(task_id, note, max(1.0, record.remaining()))
        record.message, record.updated = message, now
        try:
            self.events.changed(record, None)
        except Exception as exc:  # a hint only: polling still works
            log.warning("task %s: progress not announced: %s", task_id, exc)

    def _with_progress(self, record: TaskRecord) -> None:
        """Merge the running leg's latest progress into ``record`` (a copy
        read for display or for the lease check; never saved)."""
        note = self.repository.progress(record.id)
        if note is not None and note.get("leg") == record.leg:
            record.message = str(note.get("message") or "") or record.message
            at = note.get("at")
            if isinstance(at, (int, float)):
                record.updated = max(record.updated, float(at))

    def end(self, task_id: str, leg: int, owner: str, ending: Ending) -> Ending:
        """Record how leg ``leg`` ended; nothing changes when the task moved
        on meanwhile (cancelled, or taken over). The ending as recorded: an
        internal error for one the record cannot keep."""
        ending = self._storable(ending)
        outcome: Outcome | None = None
        if isinstance(ending, Completed):
            outcome = {"result": ending.result}
        if isinstance(ending, Failed):
            outcome = {"error": ending.error}

        def edit(record: TaskRecord) -> bool:
            if not self._holds(record, leg, owner):
                return False
            _apply(record, ending)
            return True

        record = self._change(task_id, edit, outcome)
        if isinstance(ending, Again) and record is not None:
            if record.phase == QUEUED and record.leg == leg:
                self._submit(record, ending.delay)
        return ending

    def _storable(self, ending: Ending) -> Ending:
        """``ending``, or the internal error it becomes when the record
        cannot keep it: data that is not JSON, or too large a result, fails
        the task at once, since recording it again would fail again."""
        if isinstance(ending, Completed):
            what, data = "result", ending.result
        elif isinstance(ending, Failed):
            what, data = "error", ending.error
        elif isinstance(ending, Asked):
            what = "state (ctx.state) or question"
            data = {
                "questions": {k: q.to_dict() for k, q in ending.questions.items()},
                "answers": ending.answers,
                "state": ending.state,
            }
        else:
            return ending
        try:
            size = len(json.dumps(data, separators=(",", ":")))
        except (TypeError, ValueError) as exc:
            return internal_error(f"The task's {what} is not JSON: {exc}")
        if isinstance(ending, Completed) and size > self.policy.max_result:
            return internal_error(
                f"The tool's result ({size} bytes) is larger than this server"
                f" keeps for a task ({self.policy.max_result} bytes)"
            )
        return ending

    # -- helpers -----------------------------------------------------------

    def _holds(self, record: TaskRecord, leg: int, owner: str) -> bool:
        return (
            record.status == WORKING
            and record.leg == leg
            and record.phase == RUNNING
            and record.owner == owner
        )

    def _submit(self, record: TaskRecord, delay: float) -> None:
        try:
            self.dispatcher.submit(record.id, record.leg, delay)
        except DispatchError as exc:
            self._fail(
                record.id, f"The next step of the task could not be queued: {exc}"
            )

    def _fail(
        self,
        task_id: str,
        message: str,
        check: t.Callable[[TaskRecord], bool] = lambda record: not record.terminal,
    ) -> TaskRecord | None:
        error = {"code": INTERNAL_ERROR, "message": message}

        def edit(record: TaskRecord) -> bool:
            if not check(record):
                return False
            record.status = FAILED
            record.message = message
            record.phase = DONE
            record.asks = {}
            return True

        return self._change(task_id, edit, {"error": error})

    def _change(
        self,
        task_id: str,
        edit: t.Callable[[TaskRecord], bool],
        outcome: Outcome | None = None,
    ) -> TaskRecord | None:
        """Apply ``edit``; announce the record if it changed."""
        changed = False

        def tracked(record: TaskRecord) -> bool:
            nonlocal changed
            changed = edit(record)
            if changed:
                record.updated = self.clock()
            return changed

        record = self.repository.change(task_id, tracked, outcome)
        if changed and record is not None and record.terminal:
            self._free(record)  # terminal never changes again: freed once
        if changed and record is not None:
            try:
                self.events.changed(record, outcome if record.terminal else None)
            except Exception as exc:  # a hint only: polling still works
                log.warning("task %s: change not announced: %s", task_id, exc)
        return record

    def _free(self, record: TaskRecord) -> None:
        if self.slots is None or record.slot is None:
            return
        try:
            self.slots.free(record.slot, record.id)
        except Exception as exc:  # the slot lapses with the task's lifetime
            log.warning("task %s: slot not freed: %s", record.id, exc)


def _apply(record: TaskRecord, ending: Ending) -> None:
    if isinstance(ending, Completed):
        record.status = COMPLETED
        record.is_error = ending.result.get("isError") is True
        record.message = None  # progress is over
        record.phase = DONE
    elif isinstance(ending, Failed):
        record.status = FAILED
        record.message = str(ending.error.get("message") or "The task failed")
        record.phase = DONE
    elif isinstance(ending, Asked):
        record.status = INPUT_REQUIRED
        record.asks = {k: q.to_dict() for k, q in ending.questions.items()}
        record.answers = ending.answers
        record.state = ending.state
        record.phase = ASKING
        record.message = "Waiting for input"
    elif isinstance(ending, Stopped):
        record.status = CANCELLED
        record.message = record.message or "The task was cancelled"
        record.phase = DONE
    else:
        record.phase = QUEUED
        record.owner = None
