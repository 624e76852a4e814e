"""What the task machinery needs from the outside, as named interfaces.

:mod:`flask_mcp.tasks` implements them over the shared store, the
notification bus and the executors (threads, Celery); tests may implement
them in memory.
"""

from __future__ import annotations

import contextlib
import dataclasses
import typing as t

from ...components.registry import Registry
from ...components.tools import Tool
from ...errors import FlaskMCPError
from .record import TaskRecord

Outcome = dict[str, t.Any]


class ToolCrashed(FlaskMCPError):
    """A tool handler raised something unexpected (see :meth:`ToolRunner.run_tool`)."""

    def __init__(self, error: Exception) -> None:
        super().__init__(str(error))
        self.error = error


class ToolRunner(t.Protocol):
    """How a leg runs a tool: the feature methods of the protocol server
    (:class:`~flask_mcp.protocol.methods.Methods`)."""

    registry: Registry
    #: Exceptions a handler raises to end its request (auth refusals).
    passthrough: tuple[type[Exception], ...]

    def run_tool(
        self, tool: Tool, kwargs: dict[str, t.Any], ctx: t.Any, *, crash: bool = False
    ) -> dict[str, t.Any]:
        """The tool's ``CallToolResult``; with ``crash``, an unexpected
        exception is raised as :class:`ToolCrashed`."""

    def crash_result(self, tool: Tool, exc: Exception) -> dict[str, t.Any]:
        """The tool error answering an unexpected exception."""


class TaskRepository(t.Protocol):
    """Task records and their outcomes in a store every process shares."""

    def create(self, record: TaskRecord) -> None:
        """Store a new record; once this returns, every process finds it."""

    def get(self, task_id: str) -> TaskRecord | None:
        """The record, or ``None`` if unknown, expired or unreadable."""

    def change(
        self,
        task_id: str,
        edit: t.Callable[[TaskRecord], bool],
        outcome: Outcome | None = None,
    ) -> TaskRecord | None:
        """Apply ``edit`` under the task's lock; save if it returns ``True``
        (with ``outcome``, written first, when given). The record as it is
        afterwards, or ``None`` if there is none."""

    def outcome(self, task_id: str) -> Outcome | None:
        """``{"result": ...}`` or ``{"error": ...}`` of a finished task."""

    def note(self, task_id: str, progress: dict[str, t.Any], ttl: float) -> None:
        """Keep the running leg's progress (written without the lock)."""

    def progress(self, task_id: str) -> dict[str, t.Any] | None:
        """The latest :meth:`note`, or ``None``."""

    def lease_alive(self, task_id: str) -> bool:
        """Whether the process holding the task's current leg still renews
        its lease."""

    def request_cancel(self, task_id: str, ttl: float) -> None:
        """Flag the task cancelled for whatever process runs it."""

    def index(self, scope: str, task_id: str, ttl: float) -> None:
        """Remember that ``scope`` (a principal or session) owns the task."""

    def listed(self, scope: str) -> list[str]:
        """Ids of the tasks ``scope`` owns, oldest first."""


class Dispatcher(t.Protocol):
    """An executor, as the protocol sees it: where legs are sent to run."""

    #: Recorded on each task (``"thread"``, ``"celery"``, ...).
    name: str
    #: Whether a queued leg is held by a live process (threads: lost with
    #: it) rather than by a durable queue (Celery's broker).
    holds_leases: bool

    def submit(self, task_id: str, leg: int, delay: float = 0.0) -> None:
        """Run leg ``leg`` of the task, after ``delay`` seconds.

        :raises DispatchError: when the leg cannot be queued.
        """


class DispatchError(FlaskMCPError):
    """A leg could not be handed to its executor (a broker that is down)."""


class TooManyTasks(FlaskMCPError):
    """A principal has as many active tasks as it may: the transport answers
    with HTTP 429, ``Retry-After`` and JSON-RPC -32029.

    :param retry_after: seconds the client is asked to wait.
    """

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class TaskSlots(t.Protocol):
    """The active-task cap of each principal, counted where every process
    sees it."""

    def take(
        self,
        principal: str,
        task_id: str,
        ttl: float,
        active: t.Callable[[str], bool],
    ) -> str | None:
        """A slot of ``principal`` now held by ``task_id`` for at most ``ttl``
        seconds; ``None`` when there is no cap.

        :param active: whether a task holding a slot is still active (a slot
            whose task ended without freeing it is taken back).
        :raises TooManyTasks: every slot is held by an active task.
        """

    def free(self, slot: str, task_id: str) -> None:
        """Give back ``slot`` if ``task_id`` still holds it."""


class TaskEvents(t.Protocol):
    """Where status changes are announced (listen streams, 2025 sessions)."""

    def changed(self, record: TaskRecord, outcome: Outcome | None) -> None:
        """``record`` changed; ``outcome`` is its result or error if final."""


@dataclasses.dataclass
class LegOutcome:
    """How a leg ended, in the words of ``flask_mcp.signals.OUTCOMES``.

    An observer whose context yields one has it filled in by the runner
    before the context exits; it stays ``"error"`` if the leg raised.
    """

    outcome: str = "error"
    #: The JSON-RPC error code the task failed with, if any.
    error_code: int | None = None
    #: The error's message, if any.
    error_message: str | None = None


class LegObserver(t.Protocol):
    """Told where each leg starts and ends (spans, metrics)."""

    def leg(self, record: TaskRecord) -> t.ContextManager[object]:
        """Wraps the run of one leg of ``record``; yield a
        :class:`~flask_mcp.protocol.tasking.ports.LegOutcome` to learn how it
        ended."""


class NoObserver:
    """The default :class:`LegObserver`: watches nothing."""

    def leg(self, record: TaskRecord) -> t.ContextManager[None]:
        return contextlib.nullcontext()
