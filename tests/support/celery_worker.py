"""A real Celery worker for an app's task legs: ``flask mcp worker``.

``CeleryWorker(app="example_app:create_app()", env={...}, concurrency=2)``
is a context manager like the other processes of :mod:`support.processes`:
it starts the worker in its own process group (a prefork parent and its
pool), waits until Celery says it is ready, and stops all of it on exit.
``env`` must give the broker (``EXAMPLE_CELERY_BROKER`` or
``MCP_TASKS_CELERY``) and the store the web server uses.
``.pool_pids()`` lists the pool's processes (the ones running legs).
"""

from __future__ import annotations

import secrets
import sys
import time
import typing as t
from collections.abc import Mapping

from .processes import ManagedProcess
from .processes import _child_pids
from .tiers import needs


@needs("celery", "redis")
class CeleryWorker(ManagedProcess):
    """``flask --app APP mcp worker`` with a unique node name."""

    name = "celery"
    start_timeout = 60.0

    def __init__(
        self,
        app: str = "example_app:create_app()",
        env: Mapping[str, str | None] | None = None,
        concurrency: int = 2,
        args: t.Iterable[str] = (),
    ) -> None:
        argv = [
            sys.executable,
            "-m",
            "flask",
            "--app",
            app,
            "mcp",
            "worker",
            "--concurrency",
            str(concurrency),
            "--loglevel",
            "INFO",
            "--hostname",
            f"flask_mcp-test-{secrets.token_hex(4)}@%h",
            # No chatter between test workers of parallel tests.
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *args,
        ]
        super().__init__(argv, env={"PYTHONUNBUFFERED": "1", **(env or {})})
        self.concurrency = concurrency

    def pool_pids(self) -> list[int]:
        """The pool processes (children of the worker's main process)."""
        return _child_pids(self.proc.pid) if self.proc and self.running else []

    def _wait_ready(self, deadline: float) -> None:
        while " ready." not in self.log_since_start():
            self._check_alive()
            self._timed_out(deadline, "Celery never said it was ready")
            time.sleep(0.1)
        while len(self.pool_pids()) < self.concurrency:
            self._check_alive()
            self._timed_out(deadline, "the pool did not start")
            time.sleep(0.05)
