"""Running tasks: task records in the shared store, and the executors.

The protocol side (both eras' wire forms, the state machine, the leg runner)
is :mod:`flask_mcp.protocol.tasking`; this package gives it a store, a
notification bus and executors: :class:`ThreadExecutor` (the default, no
other service) and :class:`~flask_mcp.tasks.celery_executor.CeleryExecutor`
(``MCP_TASKS_CELERY``). Another queue plugs in as an :class:`Executor`.
"""

from __future__ import annotations

from .executor import Executor
from .executor import ThreadExecutor
from .repository import StoreTasks
from .service import TaskService

__all__ = ["Executor", "StoreTasks", "TaskService", "ThreadExecutor"]
