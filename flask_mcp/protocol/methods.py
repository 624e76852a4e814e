"""The feature methods: tools, resources, prompts, completion and logging.

Each method takes the decoded request and its :class:`~.call.Call` and
returns the result, or raises :class:`~.jsonrpc.JsonRpcError`. What differs
between the eras is decided here by ``call.modern``: resource-not-found
codes, ``input_required`` results and the caching hints of results.
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass

from .._sync import run_sync
from ..components.arguments import InvalidArguments
from ..components.component import Component
from ..components.prompts import InvalidPromptArguments
from ..components.prompts import Prompt
from ..components.registry import InvalidCursor
from ..components.registry import Registry
from ..components.registry import paginate
from ..components.resources import Resource
from ..components.tools import Tool
from ..components.tools import ToolError
from ..components.tools import error_result
from .call import Call
from .context import LOG_LEVELS
from .context import Cancelled
from .context import ClientError
from .context import ClientTimeout
from .context import Context
from .context import StartTask
from .inputs import INPUT_METHODS
from .inputs import AnswerBook
from .inputs import InputRequired
from .inputs import StateCodec
from .inputs import call_digest
from .jsonrpc import INTERNAL_ERROR
from .jsonrpc import INVALID_PARAMS
from .jsonrpc import RESOURCE_NOT_FOUND
from .jsonrpc import JsonRpcError
from .jsonrpc import Request
from .tasking.ports import ToolCrashed
from .versions import has_legacy_tasks
from .versions import reports_invalid_arguments_as_result

if t.TYPE_CHECKING:
    from .tasking.task_methods import TaskMethods

log = logging.getLogger(__name__)

C = t.TypeVar("C", bound=Component)
Result = dict[str, t.Any]


@dataclass(frozen=True)
class CachePolicy:
    """Caching hints of modern results (2026-07-28, "Caching").

    :param list_ttl_ms: how long clients may keep lists and ``server/discover``.
    :param scope: ``"public"`` (shareable across users) or ``"private"``.
    """

    list_ttl_ms: int = 60_000
    read_ttl_ms: int = 0
    scope: str = "public"

    def hints(self, ttl_ms: int, scope: str | None = None) -> Result:
        return {"ttlMs": ttl_ms, "cacheScope": scope or self.scope}


class Methods:
    """The feature methods of one server, over its registry."""

    #: Tasks of tools that may run as one; ``None``: no tasks (set by the
    #: server when it has them).
    tasks: TaskMethods | None = None

    def __init__(
        self,
        registry: Registry,
        *,
        page_size: int,
        request_timeout: float,
        mask_errors: bool,
        codec: StateCodec,
        cache: CachePolicy,
        passthrough: tuple[type[Exception], ...] = (),
    ) -> None:
        self.registry = registry
        #: Exceptions a handler raises to end the whole HTTP request (auth
        #: refusals): the transport answers them, never a tool error.
        self.passthrough = passthrough
        self.page_size = page_size
        self.request_timeout = request_timeout
        self.mask_errors = mask_errors
        self.codec = codec
        self.cache = cache

    def context(
        self, request: Request, call: Call, *, prelude: bool = False
    ) -> Context:
        """The handler's context; on a modern input method, with its answers.

        :raises JsonRpcError: -32602 for a forged, expired or foreign
            ``requestState`` or malformed ``inputResponses``.
        """
        answers = None
        if call.modern and request.method in INPUT_METHODS:

            def binding() -> dict[str, t.Any]:
                return {
                    "p": call.principal,
                    "m": request.method,
                    "d": call_digest(request.method, request.params),
                }

            answers = AnswerBook(self.codec, binding, request.params)
        return Context(
            request_id=request.id,
            session_id=call.session_id,
            protocol_version=call.protocol_version,
            channel=call.channel,
            meta=request.params.get("_meta"),
            log_level=call.log_level,
            client_capabilities=call.client_capabilities,
            auth=call.auth,
            request_timeout=self.request_timeout,
            answers=answers,
            cancelled=call.cancelled,
            prelude=prelude,
        )

    # -- lists -------------------------------------------------------------

    def _page(
        self, kind: str, table: t.Mapping[str, C], request: Request, call: Call
    ) -> Result:
        # Sorted by key: the same list in the same order on every worker.
        visible = [table[key] for key in sorted(table) if call.allows(table[key])]
        try:
            page, cursor = paginate(
                kind, visible, request.params.get("cursor"), self.page_size
            )
        except InvalidCursor as exc:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid cursor: {exc}") from None
        result: Result = {kind: [item.listing() for item in page]}  # type: ignore[attr-defined]
        if cursor is not None:
            result["nextCursor"] = cursor
        if call.modern:
            result.update(self.cache.hints(self.cache.list_ttl_ms))
        return result

    def tools_list(self, request: Request, call: Call) -> Result:
        result = self._page("tools", self.registry.tools, request, call)
        if self.tasks is not None and has_legacy_tasks(call.protocol_version):
            # 2025-11-25 publishes task support per tool; 2026-07-28 has none.
            for listed in result["tools"]:
                tool = self.registry.tools.get(listed["name"])
                if tool is not None and tool.task != "forbidden":
                    listed["execution"] = {"taskSupport": tool.task}
        return result

    def resources_list(self, request: Request, call: Call) -> Result:
        return self._page("resources", self.registry.resources, request, call)

    def templates_list(self, request: Request, call: Call) -> Result:
        return self._page("resourceTemplates", self.registry.templates, request, call)

    def prompts_list(self, request: Request, call: Call) -> Result:
        return self._page("prompts", self.registry.prompts, request, call)

    # -- tools -------------------------------------------------------------

    def tools_call(self, request: Request, call: Call) -> Result:
        params = request.params
        name = params.get("name")
        tool = _named(self.registry.tools, name, "tool", call)
        try:
            kwargs = tool.arguments.load(params.get("arguments"))
        except InvalidArguments as exc:
            message = f"Invalid arguments for tool {name}: {exc}"
            if reports_invalid_arguments_as_result(call.protocol_version):
                return error_result(message)
            raise JsonRpcError(
                INVALID_PARAMS, message, {"errors": exc.errors}
            ) from None
        tasks = self.tasks
        plan = tasks.plan(tool, request, call) if tasks is not None else None
        if tasks is not None and plan is not None and not plan.prelude:
            return tasks.start(tool, request, call, plan)
        # Only a handler that takes a context can ask questions or stream.
        ctx = (
            self.context(request, call, prelude=plan is not None)
            if tool.wants_context
            else None
        )
        try:
            return self.run_tool(tool, kwargs, ctx)
        except InputRequired as exc:
            assert ctx is not None  # only a context raises it
            return _input_required(exc, ctx)
        except StartTask:
            assert ctx is not None and tasks is not None and plan is not None
            return tasks.start(tool, request, call, plan, ctx.handover())

    def run_tool(
        self,
        tool: Tool,
        kwargs: Result,
        ctx: Context | None,
        *,
        crash: bool = False,
    ) -> Result:
        """Run a tool's handler: its ``CallToolResult``, a tool error the
        model can read for a failure, or the exceptions that end the run
        otherwise (questions, ``start_task``, JSON-RPC errors, cancellation,
        ``passthrough``).

        :param crash: raise :class:`ToolCrashed` for an unexpected exception
            instead of answering with :meth:`crash_result` (a task leg may
            run again).
        """
        name = tool.name
        try:
            value = tool.invoke(kwargs, ctx)
        except self.passthrough:
            raise
        except (InputRequired, StartTask, JsonRpcError, Cancelled):
            raise
        except ToolError as exc:
            return error_result(str(exc))
        except ClientTimeout as exc:
            log.warning("tool %r: %s", name, exc)
            return error_result(f"Tool {name} gave up: {exc}")
        except Exception as exc:
            if crash:
                raise ToolCrashed(exc) from exc
            return self.crash_result(tool, exc)
        return tool.to_result(value)

    def crash_result(self, tool: Tool, exc: Exception) -> Result:
        """The tool error answering an unexpected exception (logged)."""
        log.error("tool %r raised", tool.name, exc_info=exc)
        return error_result(self._describe_failure(f"Tool {tool.name}", exc))

    def _describe_failure(self, what: str, exc: Exception) -> str:
        if isinstance(exc, ClientError):
            return f"{what} failed: the client answered with an error: {exc}"
        if self.mask_errors:
            return f"{what} failed with an internal error"
        return f"{what} failed: {type(exc).__name__}: {exc}"

    def _run(
        self,
        what: str,
        component: Component,
        kwargs: Result,
        request: Request,
        call: Call,
        result: t.Callable[[t.Any], Result],
    ) -> Result:
        """Run a resource or prompt handler: ``result(value)``, or the
        ``input_required`` result when it asked a question; failures become
        JSON-RPC errors."""
        ctx = self.context(request, call)
        try:
            value = component.invoke(kwargs, ctx)
        except InputRequired as exc:
            return _input_required(exc, ctx)
        except (JsonRpcError, Cancelled):
            raise
        except self.passthrough:
            raise
        except ClientTimeout as exc:
            log.warning("%s: %s", what, exc)
            raise JsonRpcError(INTERNAL_ERROR, f"{what} gave up: {exc}") from None
        except Exception as exc:
            log.exception("%s raised", what)
            raise JsonRpcError(
                INTERNAL_ERROR, self._describe_failure(what, exc)
            ) from None
        return result(value)

    # -- resources ---------------------------------------------------------

    def resources_read(self, request: Request, call: Call) -> Result:
        params = request.params
        uri = params.get("uri")
        if not isinstance(uri, str):
            raise JsonRpcError(INVALID_PARAMS, "resources/read needs a string 'uri'")
        found = self._find_resource(uri, call)
        if found is None:
            raise _not_found(uri, call)
        resource, variables = found
        try:
            kwargs = resource.load(variables)
        except ValueError as exc:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid {uri}: {exc}") from None
        return self._run(
            f"Reading {uri}",
            resource,
            kwargs,
            request,
            call,
            lambda value: self._read_result(resource, uri, value, params, call),
        )

    def _read_result(
        self, resource: Resource, uri: str, value: t.Any, params: Result, call: Call
    ) -> Result:
        result: Result = {"contents": resource.contents(uri, value)}
        if call.modern:
            retried = "inputResponses" in params or "requestState" in params
            ttl = (
                resource.ttl_ms
                if resource.ttl_ms is not None
                else self.cache.read_ttl_ms
            )
            # Answers given for one call must never be served from a cache.
            result.update(self.cache.hints(0 if retried else ttl, resource.cache_scope))
        return result

    def _find_resource(
        self, uri: str, call: Call
    ) -> tuple[Resource, dict[str, str]] | None:
        resource = self.registry.resources.get(uri)
        if resource is not None:
            return (resource, {}) if call.allows(resource) else None
        found = self.registry.find_template(uri)
        if found is not None and call.allows(found[0]):
            return found
        return None

    def _subscription_uri(self, params: dict[str, t.Any], call: Call) -> str:
        uri = params.get("uri")
        if not isinstance(uri, str):
            raise JsonRpcError(INVALID_PARAMS, "a string 'uri' is required")
        if self._find_resource(uri, call) is None:
            raise _not_found(uri, call)
        if call.session is None:
            raise JsonRpcError(INVALID_PARAMS, "subscriptions need an MCP session")
        return uri

    def subscribe(self, request: Request, call: Call) -> Result:
        uri = self._subscription_uri(request.params, call)
        call.session.subscribe(uri)  # type: ignore[union-attr]
        return {}

    def unsubscribe(self, request: Request, call: Call) -> Result:
        uri = self._subscription_uri(request.params, call)
        call.session.unsubscribe(uri)  # type: ignore[union-attr]
        return {}

    def resource_visible(self, uri: str, call: Call) -> bool:
        """Whether ``uri`` names a resource the caller may read."""
        return self._find_resource(uri, call) is not None

    # -- prompts -----------------------------------------------------------

    def prompts_get(self, request: Request, call: Call) -> Result:
        params = request.params
        name = params.get("name")
        prompt = _named(self.registry.prompts, name, "prompt", call)
        arguments = params.get("arguments") or {}
        if not isinstance(arguments, dict) or not all(
            isinstance(v, str) for v in arguments.values()
        ):
            raise JsonRpcError(INVALID_PARAMS, "prompt arguments must be strings")
        try:
            kwargs = prompt.load(arguments)
        except InvalidPromptArguments as exc:
            raise JsonRpcError(INVALID_PARAMS, f"Prompt {name}: {exc}") from None
        return self._run(
            f"Prompt {name}",
            prompt,
            kwargs,
            request,
            call,
            lambda value: _prompt_result(prompt, value),
        )

    # -- completion and logging ------------------------------------------

    def complete(self, request: Request, call: Call) -> Result:
        params = request.params
        ref = params.get("ref") or {}
        argument = params.get("argument") or {}
        if not isinstance(ref, dict) or not isinstance(argument, dict):
            raise JsonRpcError(INVALID_PARAMS, "completion needs 'ref' and 'argument'")
        kind = ref.get("type")
        key = ref.get("name" if kind == "ref/prompt" else "uri")
        if not isinstance(key, str):
            raise JsonRpcError(
                INVALID_PARAMS, "completion reference needs a name or uri"
            )
        target: Prompt | Resource | None
        if kind == "ref/prompt":
            target = self.registry.prompts.get(key)
        elif kind == "ref/resource":
            target = self.registry.templates.get(key) or self.registry.resources.get(
                key
            )
        else:
            raise JsonRpcError(INVALID_PARAMS, f"Unknown reference type: {kind}")
        if target is None or not call.allows(target):
            raise JsonRpcError(INVALID_PARAMS, f"Unknown reference: {key}")
        name = str(argument.get("name"))
        value = str(argument.get("value", ""))
        completer = self.registry.completers.get((kind, key, name))
        values: list[str] = []
        if completer is not None:
            context_args = params.get("context") or {}
            others = (
                context_args.get("arguments")
                if isinstance(context_args, dict)
                else None
            )
            try:
                suggested = run_sync(
                    completer(value, others if isinstance(others, dict) else {})
                )
                values = [str(v) for v in suggested]
            except Exception:
                log.exception("completion of %s %r raised", key, name)
                raise JsonRpcError(INTERNAL_ERROR, "Completion failed") from None
        elif hasattr(target, "choices"):
            # Enum and Literal parameters complete to their allowed values.
            values = [c for c in target.choices(name) if c.startswith(value)]
        return {
            "completion": {
                "values": values[:100],
                "total": len(values),
                "hasMore": len(values) > 100,
            }
        }

    def set_level(self, request: Request, call: Call) -> Result:
        level = request.params.get("level")
        if level not in LOG_LEVELS:
            raise JsonRpcError(INVALID_PARAMS, f"Unknown log level: {level}")
        if call.session is not None:
            call.session.set_log_level(level)
        return {}


def _named(table: t.Mapping[str, C], name: object, kind: str, call: Call) -> C:
    """A component by name; a hidden one is as unknown as a missing one."""
    item = table.get(name) if isinstance(name, str) else None
    if item is None or not call.allows(item):
        raise JsonRpcError(INVALID_PARAMS, f"Unknown {kind}: {name}")
    return item


def _prompt_result(prompt: Prompt, value: t.Any) -> Result:
    result: Result = {"messages": Prompt.messages(value)}
    if prompt.description:
        result["description"] = prompt.description
    return result


def _not_found(uri: str, call: Call) -> JsonRpcError:
    """Resource not found: -32002 until 2025-11-25, -32602 since (SEP-2164)."""
    code = INVALID_PARAMS if call.modern else RESOURCE_NOT_FOUND
    return JsonRpcError(code, "Resource not found", {"uri": uri})


def _input_required(exc: InputRequired, ctx: Context) -> Result:
    """The ``input_required`` result of a modern run that asked questions.

    A run that stops at a question has done nothing yet (handlers ask before
    they act), so the state it was sent may be used again.
    """
    ctx.release_state()
    return {
        "resultType": "input_required",
        "inputRequests": {
            key: request.to_dict() for key, request in exc.requests.items()
        },
        "requestState": ctx.request_state(exc.requests),
    }
