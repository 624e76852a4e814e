"""The durable record of one task, as it lives in the shared store.

The record is plain JSON (no pickles): what the tool was called with, by
whom, where the task stands, and what its next leg needs (the answers given
so far and the handler's ``ctx.state``). The result or error of a finished
task is kept apart (see :class:`~.ports.TaskRepository`), so polling a task
never reads a large result until it is there to return.

Statuses follow the 2026-07-28 extension; the 2025-11-25 rendering maps a
completed tool error to ``failed`` (see :mod:`.wire`).
"""

from __future__ import annotations

import dataclasses
import time
import typing as t

WORKING = "working"
INPUT_REQUIRED = "input_required"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
TERMINAL = frozenset({COMPLETED, FAILED, CANCELLED})

#: Where the current leg is: waiting for an executor, running on one,
#: waiting for answers, or done.
QUEUED, RUNNING, ASKING, DONE = "queued", "running", "asking", "done"

#: Version of the record layout; a record of another layout reads as missing.
LAYOUT = 1


@dataclasses.dataclass
class TaskRecord:
    """One task. Times are Unix timestamps; ``ttl_ms`` counts from creation."""

    id: str
    #: The protocol version of the request that created the task.
    version: str
    #: Hashed identity of the creator (``None`` without authentication).
    principal: str | None
    #: The 2025 session that created the task (its notifications go there).
    session: str | None
    tool: str
    arguments: dict[str, t.Any]
    created: float
    updated: float
    ttl_ms: int
    poll_ms: int
    status: str = WORKING
    message: str | None = None
    #: For a completed tool call: whether its result has ``isError``.
    is_error: bool = False
    #: Open questions: key -> ``{"method": ..., "params": ...}``.
    asks: dict[str, dict[str, t.Any]] = dataclasses.field(default_factory=dict)
    #: Answers so far: key -> ``[question digest, answer]``.
    answers: dict[str, list[t.Any]] = dataclasses.field(default_factory=dict)
    #: What the handler keeps across legs (``ctx.state``).
    state: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    #: The client capabilities the creating request declared.
    capabilities: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    #: ``_meta`` of the creating request worth keeping (``progressToken``).
    meta: dict[str, t.Any] = dataclasses.field(default_factory=dict)
    #: The creator's auth session, sealed (see ``flask_mcp.tasks``).
    auth: str | None = None
    #: Which executor runs the legs (``"thread"``, ``"celery"``, ...).
    executor: str = "thread"
    leg: int = 1
    phase: str = QUEUED
    #: Who claimed the current leg (an executor's process).
    owner: str | None = None
    #: Times the current leg was started (a retried leg runs again).
    attempt: int = 0
    #: The principal's active-task slot this task holds until it ends
    #: (:class:`~.ports.TaskSlots`); ``None`` without a cap.
    slot: str | None = None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def expires_at(self) -> float:
        return self.created + self.ttl_ms / 1000

    def remaining(self, now: float | None = None) -> float:
        """Seconds until the task may be discarded."""
        return self.expires_at - (time.time() if now is None else now)

    def to_json(self) -> dict[str, t.Any]:
        return {"layout": LAYOUT, **dataclasses.asdict(self)}

    @classmethod
    def from_json(cls, value: t.Any) -> TaskRecord | None:
        """The record ``value`` describes; ``None`` for anything this code
        did not write (another layout, a planted value)."""
        if not isinstance(value, dict) or value.get("layout") != LAYOUT:
            return None
        fields = {f.name: f for f in dataclasses.fields(cls)}
        data = {k: v for k, v in value.items() if k in fields}
        try:
            record = cls(**data)
        except TypeError:
            return None
        return record if _well_formed(record) else None


_TYPES: dict[str, type | tuple[type, ...]] = {
    "id": str,
    "version": str,
    "tool": str,
    "arguments": dict,
    "created": (int, float),
    "updated": (int, float),
    "ttl_ms": int,
    "poll_ms": int,
    "status": str,
    "asks": dict,
    "answers": dict,
    "state": dict,
    "capabilities": dict,
    "meta": dict,
    "executor": str,
    "leg": int,
    "phase": str,
    "attempt": int,
}


def _well_formed(record: TaskRecord) -> bool:
    return all(
        isinstance(getattr(record, k), kind) for k, kind in _TYPES.items()
    ) and isinstance(record.slot, (str, type(None)))
