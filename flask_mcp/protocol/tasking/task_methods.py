"""The ``tasks/*`` methods of both eras, and task creation by ``tools/call``.

Every task request is authenticated by the transport like any request; here
the task must belong to the caller's principal, and its tool must still be
one the caller may use. A task of another principal, an expired one and an
unknown one get the same answer (-32602), so ids reveal nothing.
"""

from __future__ import annotations

import logging
import secrets
import time
import typing as t

from ...components.registry import InvalidCursor
from ...components.registry import Registry
from ...components.registry import paginate
from ...components.tools import Tool
from ..call import Call
from ..context import Cancelled
from ..context import ClientError
from ..context import ClientTimeout
from ..jsonrpc import INTERNAL_ERROR
from ..jsonrpc import INVALID_PARAMS
from ..jsonrpc import JsonRpcError
from ..jsonrpc import Request
from . import wire
from .lifecycle import Lifecycle
from .ports import DispatchError
from .record import INPUT_REQUIRED
from .record import TaskRecord
from .support import Plan
from .support import declares_extension
from .support import missing_extension
from .support import plan

log = logging.getLogger(__name__)

Result = dict[str, t.Any]
#: Seals the creator's auth session into the record (bound to the task id).
SealAuth = t.Callable[[t.Any, str], "str | None"]
#: The longest task id accepted (ours are 32 characters).
_MAX_ID = 128


def not_found() -> JsonRpcError:
    return JsonRpcError(INVALID_PARAMS, "Failed to retrieve task: Task not found")


class TaskMethods:
    """Creates tasks and answers ``tasks/*`` requests.

    :param seal_auth: turns the caller's auth session into the string kept in
        the record, for the legs to run as the caller.
    :param page_size: tasks per page of ``tasks/list``.
    :param answer_wait: seconds ``tasks/result`` waits for the client's
        answer to one question.
    :param hold: seconds ``tasks/result`` may hold a request it cannot hand
        to a resumable stream (a server without sessions).
    :param poll: seconds between looks at a task ``tasks/result`` waits for.
    """

    def __init__(
        self,
        registry: Registry,
        lifecycle: Lifecycle,
        *,
        seal_auth: SealAuth,
        page_size: int = 50,
        answer_wait: float = 300.0,
        hold: float = 20.0,
        poll: float = 0.25,
    ) -> None:
        self.registry = registry
        self.lifecycle = lifecycle
        self.seal_auth = seal_auth
        self.page_size = page_size
        self.answer_wait = answer_wait
        self.hold = hold
        self.poll = poll

    # -- tools/call --------------------------------------------------------

    def plan(self, tool: Tool, request: Request, call: Call) -> Plan | None:
        """Whether this call runs as a task (see :func:`.support.plan`)."""
        return plan(
            tool,
            request.params,
            modern=call.modern,
            version=call.protocol_version,
            capabilities=call.client_capabilities,
        )

    def start(
        self,
        tool: Tool,
        request: Request,
        call: Call,
        how: Plan,
        handover: tuple[dict[str, list[t.Any]], dict[str, t.Any]] | None = None,
    ) -> Result:
        """Create the task, durable before this returns, and queue its first
        leg; the ``CreateTaskResult``.

        :param handover: answers and ``ctx.state`` of a prelude that called
            ``ctx.start_task()``.
        """
        lifecycle = self.lifecycle
        policy = lifecycle.policy
        task_id = secrets.token_urlsafe(24)
        now = lifecycle.clock()
        answers, state = handover or ({}, {})
        meta = request.params.get("_meta")
        token = meta.get("progressToken") if isinstance(meta, dict) else None
        arguments = request.params.get("arguments")
        try:
            sealed = self.seal_auth(call.auth, task_id)
        except TypeError as exc:
            log.error("tool %r cannot run as a task: %s", tool.name, exc)
            raise JsonRpcError(
                INTERNAL_ERROR,
                "This server cannot hand the caller's session to a task worker",
            ) from None
        record = TaskRecord(
            id=task_id,
            version=call.protocol_version,
            principal=call.principal,
            session=call.session_id,
            tool=tool.name,
            arguments=dict(arguments) if isinstance(arguments, dict) else {},
            created=now,
            updated=now,
            ttl_ms=policy.lifetime(how.ttl_ms),
            poll_ms=policy.poll_ms,
            answers=dict(answers),
            state=dict(state),
            capabilities=dict(call.client_capabilities),
            meta={"progressToken": token} if isinstance(token, (str, int)) else {},
            auth=sealed,
            executor=lifecycle.dispatcher.name,
        )
        try:
            lifecycle.open(record, None if call.modern else _scope(call))
        except DispatchError as exc:
            log.error("task of tool %r not queued: %s", tool.name, exc)
            raise JsonRpcError(
                INTERNAL_ERROR,
                "The task queue is unavailable; try again later",
            ) from None
        if call.modern:
            return wire.created(record)
        return wire.legacy_created(record, f"Tool {tool.name} started as a task")

    # -- both eras ---------------------------------------------------------

    def get(self, request: Request, call: Call) -> Result:
        record = self._owned(request, call)
        if not call.modern:
            return wire.legacy_task(record)
        outcome = (
            self.lifecycle.repository.outcome(record.id) if record.terminal else None
        )
        return wire.detailed(record, outcome)

    def cancel(self, request: Request, call: Call) -> Result:
        """Cancel the task. 2026-07-28 acknowledges, also for a finished task;
        2025-11-25 refuses a finished one and answers the cancelled task."""
        record = self._owned(request, call)
        if record.terminal and not call.modern:
            raise JsonRpcError(
                INVALID_PARAMS,
                "Cannot cancel task: already in terminal status"
                f" {wire.legacy_status(record)!r}",
            )
        cancelled = self.lifecycle.cancel(record.id)
        if cancelled is None:
            raise not_found()
        return {} if call.modern else wire.legacy_task(cancelled)

    # -- 2026-07-28 ----------------------------------------------------------

    def update(self, request: Request, call: Call) -> Result:
        """``tasks/update``: answers to open questions; acknowledged at once,
        the next leg starts when none is left open."""
        responses = request.params.get("inputResponses")
        if not isinstance(responses, dict) or not all(
            isinstance(v, dict) for v in responses.values()
        ):
            raise JsonRpcError(
                INVALID_PARAMS,
                "Invalid params: inputResponses must map keys to results",
            )
        record = self._owned(request, call)
        if responses:
            self.lifecycle.answer(record.id, responses)
        return {}

    def watchable(self, requested: t.Any, call: Call) -> list[str]:
        """Of the task ids a listen stream asks about, those it may watch.

        :raises JsonRpcError: -32021 without the extension, -32602 for a
            filter that is not a list of ids.
        """
        if not declares_extension(call.client_capabilities):
            raise missing_extension("notifications/tasks")
        if not isinstance(requested, list) or not all(
            isinstance(i, str) for i in requested
        ):
            raise JsonRpcError(
                INVALID_PARAMS, "Invalid params: taskIds must be a list of task ids"
            )
        return [i for i in dict.fromkeys(requested) if self._find(i, call) is not None]

    # -- 2025-11-25 ----------------------------------------------------------

    def result(self, request: Request, call: Call) -> Result:
        """``tasks/result``: the task's result, once it has one.

        While the task waits for input, its questions go to the client as
        live requests with the related-task ``_meta``, and the answers start
        the next leg. The wait happens in the handler's thread after the
        response stream was closed (the client resumes it), so no worker is
        held by a client waiting for a long task.
        """
        record = self._owned(request, call)
        asked: set[str] = set()
        closed = False
        # Without a session the stream cannot be resumed: the request holds
        # its worker, so it waits only a while (below gunicorn's timeout).
        deadline = None if call.session_id else time.monotonic() + self.hold
        while not record.terminal:
            if not closed:
                call.channel.close_stream()
                closed = True
            if record.status == INPUT_REQUIRED:
                self._ask_live(record, call, asked)
            if call.cancelled.is_set():
                raise Cancelled()
            if deadline is not None and time.monotonic() > deadline:
                raise JsonRpcError(
                    INTERNAL_ERROR,
                    f"Task {record.id} is still {wire.legacy_status(record)}:"
                    " call tasks/result again",
                    {"taskId": record.id, "status": wire.legacy_status(record)},
                )
            time.sleep(self.poll)
            found = self.lifecycle.find(record.id)
            if found is None:
                raise not_found()
            record = found
        return self._final(record)

    def list(self, request: Request, call: Call) -> Result:
        """``tasks/list``: the caller's tasks, oldest first, by pages."""
        ids = self.lifecycle.repository.listed(_scope(call))
        records = [r for r in (self._find(i, call) for i in ids) if r is not None]
        try:
            page, cursor = paginate(
                "tasks",
                t.cast(t.Any, records),
                request.params.get("cursor"),
                self.page_size,
            )
        except InvalidCursor as exc:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid cursor: {exc}") from None
        result: Result = {"tasks": [wire.legacy_task(r) for r in page]}
        if cursor is not None:
            result["nextCursor"] = cursor
        return result

    def _ask_live(self, record: TaskRecord, call: Call, asked: set[str]) -> None:
        for key, ask in list(record.asks.items()):
            if key in asked:
                continue
            asked.add(key)
            params = dict(ask["params"])
            params["_meta"] = {**(params.get("_meta") or {}), **wire.related(record.id)}
            if params.get("mode") == "url" and "elicitationId" not in params:
                params["elicitationId"] = secrets.token_urlsafe(12)
            try:
                answer = call.channel.request(ask["method"], params, self.answer_wait)
            except (ClientTimeout, ClientError) as exc:
                # Still open: the next tasks/result asks again.
                log.info("task %s: question %r not answered: %s", record.id, key, exc)
                continue
            self.lifecycle.answer(record.id, {key: answer})

    def _final(self, record: TaskRecord) -> Result:
        outcome = self.lifecycle.repository.outcome(record.id) or {}
        result = outcome.get("result")
        if record.status == "completed" and isinstance(result, dict):
            meta = {**(result.get("_meta") or {}), **wire.related(record.id)}
            return {**result, "_meta": meta}
        if record.status == "cancelled":
            raise JsonRpcError(INTERNAL_ERROR, f"Task {record.id} was cancelled")
        error = outcome.get("error") or wire.lost_error(record)
        raise JsonRpcError(
            int(error.get("code", INTERNAL_ERROR)),
            str(error.get("message", "The task failed")),
            error.get("data"),
        )

    # -- access ------------------------------------------------------------

    def _owned(self, request: Request, call: Call) -> TaskRecord:
        """The task a request names, if the caller may see it.

        :raises JsonRpcError: -32021 (modern, no extension), -32602 otherwise.
        """
        if call.modern and not declares_extension(call.client_capabilities):
            raise missing_extension(request.method)
        task_id = request.params.get("taskId")
        if not isinstance(task_id, str) or not task_id:
            raise JsonRpcError(
                INVALID_PARAMS, "Invalid params: taskId must be a string"
            )
        record = self._find(task_id, call)
        if record is None:
            raise not_found()
        return record

    def _find(self, task_id: str, call: Call) -> TaskRecord | None:
        if len(task_id) > _MAX_ID:
            return None
        record = self.lifecycle.find(task_id)
        if record is None or record.principal != call.principal:
            return None
        tool = self.registry.tools.get(record.tool)
        if tool is None or not call.allows(tool):
            return None  # the caller may no longer use its tool
        return record


def _scope(call: Call) -> str:
    """Who lists a 2025 task: its principal; without authentication, the
    session that made it (listing by task id alone would show everyone's)."""
    if call.principal is not None:
        return f"p:{call.principal}"
    return f"s:{call.session_id}"
