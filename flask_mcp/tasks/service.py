"""One server's tasks, assembled: records, executor, runner, announcements.

:func:`TaskService.for_app` builds the parts at ``init_app`` from the
``MCP_TASKS_*`` settings; :meth:`TaskService.bind` completes them once the
protocol server exists. Executors call :meth:`TaskService.work` (Celery,
custom queues) or the runner directly (threads) to run a leg.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import typing as t

from flask import Flask
from flask import g
from werkzeug.utils import import_string

from ..components.registry import Registry
from ..protocol.methods import Methods
from ..protocol.tasking.legs import LegRunner
from ..protocol.tasking.lifecycle import Lifecycle
from ..protocol.tasking.ports import LegObserver
from ..protocol.tasking.task_methods import TaskMethods
from ..store import Store
from ..transport.bus import NotificationBus
from .announce import BusAnnouncer
from .credentials import SessionSeal
from .executor import Executor
from .executor import ThreadExecutor
from .heartbeat import Heartbeat
from .observer import SignalObserver
from .repository import StoreTasks
from .slots import StoreSlots
from .task_settings import TaskSettings

log = logging.getLogger(__name__)

#: Seconds a leg keeps trying to record its end while the store fails: past
#: the lease, and past the 60 s a Redis lock taken during an outage (its
#: holder never learned it had it) may stay held.
END_PATIENCE = 75.0
#: Seconds before a leg that could not start (the store was down) is tried
#: again, through the executor's queue.
REQUEUE_DELAY = 10.0


class TaskService:
    """Everything one :class:`~flask_mcp.FlaskMCP` needs to run tasks."""

    #: Where each leg starts and ends; set before the runner is built, or
    #: on :attr:`runner` afterwards. By default, :mod:`flask_mcp.signals`
    #: (which telemetry receives).
    observer: LegObserver | None = None
    #: Where the legs run (threads, Celery, another queue).
    executor: Executor
    #: The state machine of this server's tasks.
    lifecycle: Lifecycle
    #: The task records in the shared store.
    repository: StoreTasks

    def __init__(
        self,
        app: Flask,
        settings: TaskSettings,
        repository: StoreTasks,
        seal: SessionSeal,
        bus: t.Callable[[], NotificationBus],
        *,
        name: str,
        registry: Registry,
        page_size: int,
        hold: float = 20.0,
    ) -> None:
        self.app = app
        self.settings = settings
        self.repository = repository
        self.seal = seal
        self.name = name
        self.heartbeat = Heartbeat(repository)
        self._runner: LegRunner | None = None
        self.executor = self._executor()
        #: The cap on each principal's active tasks.
        self.slots = StoreSlots(
            repository.store,
            settings.per_principal,
            retry_after=max(1.0, settings.policy.poll_ms / 1000),
        )
        self.lifecycle = Lifecycle(
            repository,
            self.executor,
            BusAnnouncer(bus),
            settings.policy,
            slots=self.slots,
        )
        self.methods = TaskMethods(
            registry,
            self.lifecycle,
            seal_auth=seal.seal,
            page_size=page_size,
            hold=hold,
        )

    @classmethod
    def for_app(
        cls,
        app: Flask,
        store: Store,
        bus: t.Callable[[], NotificationBus],
        *,
        name: str,
        registry: Registry,
        page_size: int,
        hold: float = 20.0,
    ) -> TaskService:
        """The tasks of server ``name`` on ``app``, per its ``MCP_TASKS_*``.

        :raises ValueError: for a setting that cannot be used.
        """
        settings = TaskSettings.from_config(app.config)
        return cls(
            app,
            settings,
            StoreTasks(store, lease=settings.policy.lease),
            SessionSeal(app.config.get("SECRET_KEY"), app.instance_path, name),
            bus,
            name=name,
            registry=registry,
            page_size=page_size,
            hold=hold,
        )

    def bind(self, methods: Methods, request_timeout: float) -> None:
        """Complete the service with the server's tool runner."""
        self._runner = LegRunner(
            methods,
            self.lifecycle,
            open_auth=self.seal.open,
            scope=self._scope,
            observer=self.observer or SignalObserver(self.app),
            request_timeout=request_timeout,
            patience=max(self.settings.policy.lease, END_PATIENCE),
        )

    @property
    def runner(self) -> LegRunner:
        if self._runner is None:
            raise RuntimeError("TaskService.bind() was not called")
        return self._runner

    def work(self, task_id: str, leg: int) -> None:
        """Run a leg in this process, holding its lease while it runs (the
        entry point of Celery and other queue workers)."""
        try:
            with self.heartbeat.holding(task_id) as cancelled:
                self.runner.run(task_id, leg, self.heartbeat.owner, cancelled)
        except Exception as exc:  # the store failed for longer than allowed
            log.error("task %s: leg %d not run (%s); queued again", task_id, leg, exc)
            try:  # a queue kept elsewhere (Celery's broker) brings it back
                self.executor.submit(task_id, leg, REQUEUE_DELAY)
            except Exception as again:
                log.error("task %s: leg %d lost: %s", task_id, leg, again)

    @property
    def celery(self) -> t.Any:
        """The Celery app running this server's legs (``flask mcp worker``),
        or ``None`` without Celery."""
        return getattr(self.executor, "app", None)

    # -- parts -------------------------------------------------------------

    def _run_leg(
        self, task_id: str, leg: int, owner: str, cancelled: threading.Event
    ) -> None:
        self.runner.run(task_id, leg, owner, cancelled)

    def _executor(self) -> Executor:
        settings = self.settings
        if settings.executor is not None:
            factory = settings.executor
            if isinstance(factory, str):
                factory = import_string(factory)
            executor = factory(self)
            if not isinstance(executor, Executor):
                raise ValueError(
                    f"MCP_TASKS_EXECUTOR made {executor!r}, not an Executor"
                )
            return executor
        if settings.celery is not None:
            # Imported only here: Celery is an extra.
            from .celery_executor import CeleryExecutor
            from .celery_executor import celery_app

            app = celery_app(
                settings.celery,
                f"flask_mcp.{self.app.import_name}.{self.name}",
                visibility_timeout=settings.visibility_timeout,
            )
            return CeleryExecutor(
                app, f"flask_mcp.leg.{self.name}", self.work, settings.celery_queue
            )
        return ThreadExecutor(self._run_leg, self.heartbeat, settings.threads)

    @contextlib.contextmanager
    def _scope(self, auth: t.Any) -> t.Iterator[None]:
        """A leg runs in the app context, with the caller's session where
        ``get_auth_session()`` and ``g.mcp_auth`` find it."""
        with self.app.app_context():
            g.mcp_auth = auth
            yield
