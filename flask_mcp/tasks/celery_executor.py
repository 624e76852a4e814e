"""Legs of tasks on Celery workers: the work leaves the web processes.

``MCP_TASKS_CELERY`` names the Celery app (an object, or ``"pkg.mod:attr"``)
or gives a broker URL (``redis://...``, ``amqp://...``), from which a Celery
app is made for this server. Either way a Celery task runs the legs; a worker
that imports the Flask app (``flask mcp worker``, or ``celery -A`` on a
module that creates it) runs them inside the app context, as the caller.

Delivery: a leg's message is acknowledged when the leg is done
(``acks_late``), and requeued when its worker process dies
(``reject_on_worker_lost``); a redelivered leg whose task moved on does
nothing, and the lease in the store lets a reader fail a task whose worker
died. Celery itself never retries a leg: a tool asks for retries with
``retries=`` (see :class:`~flask_mcp.components.tools.Tool`).

This module imports Celery; it is imported only when Celery is configured.
"""

from __future__ import annotations

import logging
import typing as t

from celery import Celery
from kombu.exceptions import KombuError
from werkzeug.utils import import_string

from ..protocol.tasking.ports import DispatchError
from .executor import Executor

log = logging.getLogger(__name__)

#: ``work(task_id, leg)`` in the worker, for the service that registered it.
Work = t.Callable[[str, int], None]

#: The latest service per Celery task name: Celery keeps the first function
#: registered under a name, so the task looks its work up here (an app
#: created twice in one process, as tests do, runs with the newest).
_WORK: dict[str, Work] = {}

#: Seconds to connect to a Redis broker and for each of its answers (the
#: store's default timeout): without them a frozen broker holds a task call
#: for ever; with them it fails in a few of these (Celery's retries).
BROKER_TIMEOUT = 2.0


def celery_app(value: t.Any, name: str, *, visibility_timeout: float) -> Celery:
    """The Celery app ``MCP_TASKS_CELERY`` names, or one made for its URL.

    :raises ValueError: for a value that is none of those.
    """
    if isinstance(value, Celery):
        return value
    if isinstance(value, str) and "://" in value:
        app = Celery(name, broker=value, set_as_current=False)
        app.conf.update(
            task_ignore_result=True,
            task_serializer="json",
            accept_content=["json"],
            # One leg at a time per worker process: long legs do not sit
            # behind each other in a prefetch buffer.
            worker_prefetch_multiplier=1,
            broker_connection_retry_on_startup=True,
            broker_transport_options=_transport_options(value, visibility_timeout),
        )
        return app
    if isinstance(value, str):
        found = import_string(value)
        if isinstance(found, Celery):
            return found
    raise ValueError(
        "MCP_TASKS_CELERY must be a Celery app, 'package.module:attribute'"
        f" naming one, or a broker URL, not {value!r}"
    )


def _transport_options(url: str, visibility_timeout: float) -> dict[str, float]:
    """Kombu's options for ``url``: a Redis broker's sockets get timeouts,
    which redis-py leaves unset."""
    options = {"visibility_timeout": visibility_timeout}
    if url.startswith(("redis", "sentinel")):
        options["socket_timeout"] = BROKER_TIMEOUT
        options["socket_connect_timeout"] = BROKER_TIMEOUT
    return options


class CeleryExecutor(Executor):
    """Sends legs to Celery workers.

    :param app: the Celery app.
    :param task_name: the Celery task running legs of this server.
    :param work: what that task does in the worker.
    :param queue: the queue to send to (Celery's default queue if ``None``).
    """

    name = "celery"
    holds_leases = False

    def __init__(
        self, app: Celery, task_name: str, work: Work, queue: str | None = None
    ) -> None:
        self.app = app
        self.task_name = task_name
        self.queue = queue
        self._register(work)

    def submit(self, task_id: str, leg: int, delay: float = 0.0) -> None:
        options: dict[str, t.Any] = {
            # A broker that is down fails the call quickly, not after
            # Celery's default retries (which take seconds).
            "retry": True,
            "retry_policy": {
                "max_retries": 2,
                "interval_start": 0,
                "interval_step": 0.2,
                "interval_max": 0.5,
            },
        }
        if self.queue:
            options["queue"] = self.queue
        if delay > 0:
            options["countdown"] = delay
        try:
            self.app.send_task(self.task_name, args=[task_id, leg], **options)
        except (KombuError, OSError) as exc:
            raise DispatchError(f"Celery broker: {exc}") from exc

    def _register(self, work: Work) -> None:
        """The Celery task that runs legs (also in the web process: harmless)."""
        name = self.task_name
        _WORK[name] = work
        if name in self.app.tasks:
            return  # registered by an earlier app of this process

        def run_leg(task_id: str, leg: int) -> None:
            _WORK[name](task_id, leg)

        self.app.task(
            name=self.task_name,
            acks_late=True,
            reject_on_worker_lost=True,
            ignore_result=True,
            max_retries=0,
        )(run_leg)
