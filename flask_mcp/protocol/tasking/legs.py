"""Running one leg of a task: the tool's handler, from the top, off the web.

An executor calls :meth:`LegRunner.run` (in a thread of a web process, or in
a Celery worker). The leg claims its turn in the record, runs the handler
with the task's answers so far (a question without an answer ends the leg:
the task then waits for the client, and no worker waits with it), and
records how it ended. :meth:`LegRunner.run` is the one place where a leg
starts and ends: its :class:`~.ports.LegObserver` sees every leg.
"""

from __future__ import annotations

import logging
import threading
import time
import typing as t

from ...components.arguments import InvalidArguments
from ...store.errors import StoreError
from ..context import Cancelled
from ..context import Context
from ..context import StartTask
from ..inputs import InputRequest
from ..inputs import InputRequired
from ..jsonrpc import INTERNAL_ERROR
from ..jsonrpc import INVALID_PARAMS
from ..jsonrpc import JsonRpcError
from .lifecycle import Again
from .lifecycle import Asked
from .lifecycle import Completed
from .lifecycle import Ending
from .lifecycle import Failed
from .lifecycle import Lifecycle
from .lifecycle import Stopped
from .lifecycle import internal_error
from .ports import LegObserver
from .ports import LegOutcome
from .ports import NoObserver
from .ports import ToolCrashed
from .ports import ToolRunner
from .record import TaskRecord

log = logging.getLogger(__name__)

#: Server-defined code of a task whose handler refused its caller.
AUTH_REFUSED = -32000
#: Seconds between status-message writes for one leg's progress.
PROGRESS_INTERVAL = 0.5

#: Opens the sealed auth session of a record (bound to its task id).
OpenAuth = t.Callable[[str | None, str], t.Any]
#: The surroundings a leg runs in, given the caller's auth session (the
#: Flask app context with ``g.mcp_auth``).
Scope = t.Callable[[t.Any], t.ContextManager[None]]


class TaskAnswers:
    """The answers of a leg: those recorded in the task so far.

    A key answered once means one question for the life of the task (the
    extension's rule): a handler that asks something else under it fails.
    """

    def __init__(self, record: TaskRecord) -> None:
        self._answered = {key: list(value) for key, value in record.answers.items()}
        self.state = dict(record.state)

    @property
    def answered(self) -> dict[str, list[t.Any]]:
        return dict(self._answered)

    def lookup(self, key: str, request: InputRequest) -> dict[str, t.Any] | None:
        recorded = self._answered.get(key)
        if recorded is None:
            return None
        if recorded[0] != request.digest():
            raise JsonRpcError(
                INTERNAL_ERROR,
                f"The task asked a different question under the answered key"
                f" {key!r}; give each question its own key",
            )
        return t.cast(dict[str, t.Any], recorded[1])

    def request_state(self, open_questions: dict[str, InputRequest]) -> str:
        raise RuntimeError("a task keeps its answers in its record")

    def release(self) -> None:
        """Nothing to give back: a task's answers stay in its record."""


class TaskChannel:
    """What a leg sends while it runs: progress becomes the status message;
    log messages stay in the server's log (tasks carry none)."""

    def __init__(self, lifecycle: Lifecycle, record: TaskRecord, owner: str) -> None:
        self.lifecycle = lifecycle
        self.task_id = record.id
        self.leg = record.leg
        self.owner = owner
        self._last = 0.0

    def notify(self, method: str, params: dict[str, t.Any]) -> None:
        if method != "notifications/progress":
            log.debug("task %s: %s %s", self.task_id, method, params)
            return
        now = time.monotonic()
        if now - self._last < PROGRESS_INTERVAL:
            return
        self._last = now
        message = params.get("message")
        if not isinstance(message, str) or not message:
            total = params.get("total")
            done = params.get("progress")
            message = f"{done:g}/{total:g}" if total else f"{done:g}"
        try:
            self.lifecycle.progress(self.task_id, self.leg, self.owner, message)
        except Exception as exc:  # progress is best effort
            log.warning("task %s: progress not recorded: %s", self.task_id, exc)

    def request(
        self, method: str, params: dict[str, t.Any], timeout: float
    ) -> dict[str, t.Any]:
        raise JsonRpcError(INTERNAL_ERROR, f"a task asks {method} through its status")

    def close_stream(self) -> None:
        pass


class LegRunner:
    """Runs legs of tasks; the executors' entry point.

    :param open_auth: opens the auth session sealed in a record.
    :param scope: what a leg runs inside (the Flask app context).
    :param backoff: seconds before the first retry of a crashed leg; it
        doubles with each attempt.
    :param patience: seconds to keep trying to record a leg's end while the
        store does not answer.
    """

    def __init__(
        self,
        methods: ToolRunner,
        lifecycle: Lifecycle,
        *,
        open_auth: OpenAuth,
        scope: Scope,
        observer: LegObserver | None = None,
        request_timeout: float = 60.0,
        backoff: float = 1.0,
        patience: float = 30.0,
    ) -> None:
        self.methods = methods
        self.lifecycle = lifecycle
        self.open_auth = open_auth
        self.scope = scope
        self.observer = observer or NoObserver()
        self.request_timeout = request_timeout
        self.backoff = backoff
        self.patience = patience

    def run(
        self, task_id: str, leg: int, owner: str, cancelled: threading.Event
    ) -> None:
        """Run leg ``leg`` of the task as ``owner`` (a process of an
        executor), unless it is no longer due; ``cancelled`` is set by the
        executor when the client cancels the task."""
        record = self.lifecycle.begin(task_id, leg, owner)
        if record is None:
            log.info("task %s: leg %d not due; skipped", task_id, leg)
            return
        with self.observer.leg(record) as watched:
            ending = self._end(record, owner, self._run(record, owner, cancelled))
            if isinstance(watched, LegOutcome):
                described = _describe(ending)
                watched.outcome, watched.error_code, watched.error_message = described

    def _run(
        self, record: TaskRecord, owner: str, cancelled: threading.Event
    ) -> Ending:
        tool = self.methods.registry.tools.get(record.tool)
        if tool is None:
            return internal_error(f"Tool {record.tool} is no longer offered")
        try:
            kwargs = tool.arguments.load(record.arguments)
        except InvalidArguments as exc:
            return Failed(
                {"code": INVALID_PARAMS, "message": f"Invalid arguments: {exc}"}
            )
        try:
            auth = self.open_auth(record.auth, record.id)
        except Exception as exc:
            log.error("task %s: auth session does not open: %s", record.id, exc)
            return internal_error(
                "The task's credentials cannot be opened on this worker (is"
                " SECRET_KEY the same everywhere?)"
            )
        answers = TaskAnswers(record)
        ctx = None
        if tool.wants_context:
            ctx = Context(
                request_id=record.id,
                session_id=record.session,
                protocol_version=record.version,
                channel=TaskChannel(self.lifecycle, record, owner),
                meta=record.meta,
                client_capabilities=record.capabilities,
                auth=auth,
                request_timeout=self.request_timeout,
                answers=answers,
                cancelled=cancelled,
                task_id=record.id,
            )
        with self.scope(auth):
            try:
                return Completed(self.methods.run_tool(tool, kwargs, ctx, crash=True))
            except InputRequired as exc:
                return Asked(exc.requests, answers.answered, answers.state)
            except Cancelled:
                return Stopped()
            except JsonRpcError as exc:
                return Failed(exc.to_dict())
            except StartTask:  # a leg is no prelude: start_task() returns there
                return internal_error("start_task() raised in a task leg")
            except ToolCrashed as exc:
                if record.attempt <= tool.retries:
                    log.warning(
                        "task %s: leg %d raised (%s); run again (attempt %d of %d)",
                        record.id,
                        record.leg,
                        exc,
                        record.attempt,
                        tool.retries + 1,
                    )
                    return Again(self.backoff * 2 ** (record.attempt - 1))
                return Completed(self.methods.crash_result(tool, exc.error))
            except self.methods.passthrough as exc:
                return Failed({"code": AUTH_REFUSED, "message": str(exc) or "Refused"})

    def _end(self, record: TaskRecord, owner: str, ending: Ending) -> Ending | None:
        """Record the leg's end, waiting out a short store outage; past
        :attr:`patience` the lease lapses and a reader fails the task. Only
        the store's errors are waited out: another would come back.

        The ending as recorded; ``None`` when the store never answered.
        """
        deadline = time.monotonic() + self.patience
        pause = 0.1
        while True:
            try:
                return self.lifecycle.end(record.id, record.leg, owner, ending)
            except StoreError as exc:
                if time.monotonic() + pause > deadline:
                    log.error(
                        "task %s: the end of leg %d was not recorded: %s",
                        record.id,
                        record.leg,
                        exc,
                    )
                    return None
                log.warning(
                    "task %s: recording its end failed (%s); retrying", record.id, exc
                )
                time.sleep(pause)
                pause = min(pause * 2, 2.0)


def _describe(ending: Ending | None) -> tuple[str, int | None, str | None]:
    """How a leg that ended so reads in telemetry: outcome, code, message."""
    if ending is None:
        return "unavailable", None, "the store did not record the leg's end"
    if isinstance(ending, Failed):
        return "error", ending.error.get("code"), ending.error.get("message")
    if isinstance(ending, Again):
        return "error", None, "the tool raised; the leg runs again"
    if isinstance(ending, Stopped):
        return "cancelled", None, None
    if isinstance(ending, Completed) and ending.result.get("isError") is True:
        return "tool_error", None, "the tool reported an error"
    return "ok", None, None  # a result, or questions for the client
