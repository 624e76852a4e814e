"""Tasks: a ``tools/call`` answered at once with a task, its work done elsewhere.

Two wire forms of one feature share everything here:

* 2025-11-25, experimental tasks (SEP-1686): the client asks for a task with
  ``params.task``; ``tasks/get``, ``tasks/result`` (which blocks and carries
  the task's questions as live requests with the related-task ``_meta``),
  ``tasks/list``, ``tasks/cancel`` and ``notifications/tasks/status``;
* 2026-07-28, the extension ``io.modelcontextprotocol/tasks`` (SEP-2663):
  the server decides; ``CreateTaskResult`` with ``resultType: "task"``,
  ``tasks/get`` (questions as ``inputRequests``, the result or error
  inlined), ``tasks/update`` (answers), ``tasks/cancel`` and
  ``notifications/tasks`` on listen streams.

A task runs in *legs*. A leg runs the tool's handler from the top on an
executor (a thread of a web process, or a Celery worker); a question the
handler cannot answer from the task's recorded answers ends the leg, and the
task waits in ``input_required`` until the client answers; then the next leg
starts. No worker ever waits for a human. Everything a leg needs is in the
task's record in the shared store, so any process of any host can run it.

Framework-free: storage, executors and notifications are reached through the
interfaces of :mod:`.ports`; :mod:`flask_mcp.tasks` implements them.
"""

from __future__ import annotations

from .lifecycle import Lifecycle
from .lifecycle import TaskPolicy
from .ports import TooManyTasks
from .record import TaskRecord
from .task_methods import TaskMethods

__all__ = ["Lifecycle", "TaskMethods", "TaskPolicy", "TaskRecord", "TooManyTasks"]
