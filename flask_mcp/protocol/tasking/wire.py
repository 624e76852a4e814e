"""How a task looks on the wire, in each era.

2026-07-28 (extension ``io.modelcontextprotocol/tasks``, "Tasks"):
``ttlMs``/``pollIntervalMs``, a flat ``CreateTaskResult`` with
``resultType: "task"``, and ``tasks/get`` answering a ``DetailedTask`` that
inlines ``inputRequests``, ``result`` or ``error``. 2025-11-25 ("Tasks",
experimental): ``ttl``/``pollInterval``, ``CreateTaskResult`` wrapping the
task in ``task``, and a tool result with ``isError`` reported as ``failed``.
"""

from __future__ import annotations

import datetime
import typing as t

from .record import COMPLETED
from .record import FAILED
from .record import INPUT_REQUIRED
from .record import TaskRecord

#: The extension's identifier in ``capabilities.extensions``.
EXTENSION = "io.modelcontextprotocol/tasks"
#: ``_meta`` key tying 2025 messages to their task.
RELATED_TASK = "io.modelcontextprotocol/related-task"
#: 2025 hint: what a host may hand the model while the task runs.
IMMEDIATE_RESPONSE = "io.modelcontextprotocol/model-immediate-response"
#: Status notifications: on listen streams (2026), on the session (2025).
NOTIFICATION = "notifications/tasks"
LEGACY_NOTIFICATION = "notifications/tasks/status"

Result = dict[str, t.Any]


def timestamp(value: float) -> str:
    """ISO 8601 in UTC with milliseconds (``2026-07-28T10:30:00.000Z``)."""
    moment = datetime.datetime.fromtimestamp(value, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _base(record: TaskRecord, status: str) -> Result:
    task: Result = {"taskId": record.id, "status": status}
    if record.message:
        task["statusMessage"] = record.message
    task["createdAt"] = timestamp(record.created)
    task["lastUpdatedAt"] = timestamp(record.updated)
    return task


# -- 2026-07-28 ------------------------------------------------------------


def task(record: TaskRecord) -> Result:
    """The extension's ``Task``."""
    return {
        **_base(record, record.status),
        "ttlMs": record.ttl_ms,
        "pollIntervalMs": record.poll_ms,
    }


def created(record: TaskRecord) -> Result:
    """``CreateTaskResult``: flat, no ``requestState``, no inlined payload."""
    return {"resultType": "task", **task(record)}


def detailed(record: TaskRecord, outcome: Result | None) -> Result:
    """``DetailedTask``: the task and what its status carries.

    :param outcome: ``{"result": ...}`` or ``{"error": ...}`` of a finished
        task (``None`` while it runs).
    """
    shown = task(record)
    if record.status == INPUT_REQUIRED:
        shown["inputRequests"] = dict(record.asks)
    elif record.status == COMPLETED and outcome and "result" in outcome:
        shown["result"] = outcome["result"]
    elif record.status == FAILED:
        shown["error"] = (outcome or {}).get("error") or lost_error(record)
    return shown


def lost_error(record: TaskRecord) -> Result:
    """The error of a failed task whose error object is gone (or never was)."""
    return {"code": -32603, "message": record.message or "The task failed"}


# -- 2025-11-25 ------------------------------------------------------------


def legacy_status(record: TaskRecord) -> str:
    """2025-11-25 counts a tool result with ``isError`` as a failed task."""
    if record.status == COMPLETED and record.is_error:
        return FAILED
    return record.status


def legacy_task(record: TaskRecord) -> Result:
    """The 2025-11-25 ``Task``."""
    return {
        **_base(record, legacy_status(record)),
        "ttl": record.ttl_ms,
        "pollInterval": record.poll_ms,
    }


def legacy_created(record: TaskRecord, immediate: str | None = None) -> Result:
    result: Result = {"task": legacy_task(record)}
    if immediate:
        result["_meta"] = {IMMEDIATE_RESPONSE: immediate}
    return result


def related(task_id: str) -> Result:
    """The related-task ``_meta`` entry."""
    return {RELATED_TASK: {"taskId": task_id}}
