"""MCP method dispatch: lifecycle, tools, resources, prompts, completion, logging.

Transport-neutral: a transport decodes messages, builds a :class:`Call` for
each request and hands it to :meth:`McpServer.handle`.
"""

from __future__ import annotations

import logging
import typing as t
from dataclasses import dataclass

from .._sync import run_sync
from ..components.arguments import InvalidArguments
from ..components.base import Component
from ..components.prompts import InvalidPromptArguments
from ..components.prompts import Prompt
from ..components.registry import InvalidCursor
from ..components.registry import Registry
from ..components.registry import paginate
from ..components.resources import Resource
from ..components.tools import Tool
from ..components.tools import error_result
from .context import LOG_LEVELS
from .context import Channel
from .context import Context
from .jsonrpc import INVALID_PARAMS
from .jsonrpc import METHOD_NOT_FOUND
from .jsonrpc import RESOURCE_NOT_FOUND
from .jsonrpc import JsonRpcError
from .jsonrpc import Request
from .versions import negotiate
from .versions import reports_invalid_arguments_as_result

log = logging.getLogger("flask_mcp")

H = t.TypeVar("H", bound=Component)


class ToolError(Exception):
    """Raise in a tool to report a failure whose message the model may read."""


class SessionState(t.Protocol):
    """The per-session facts a method may read or change."""

    log_level: str | None
    client_capabilities: dict[str, t.Any]

    def set_log_level(self, level: str) -> None: ...
    def subscribe(self, uri: str) -> None: ...
    def unsubscribe(self, uri: str) -> None: ...


@dataclass
class Call:
    """Everything one request is handled with, provided by the transport."""

    protocol_version: str
    channel: Channel
    session_id: str | None = None
    session: SessionState | None = None
    auth: t.Any = None

    def allows(self, component: Component) -> bool:
        """Whether the caller may see ``component``.

        A step-up tool is listed to everyone: calling it without the scopes
        is refused by the transport with 403 and the scopes to ask for.
        """
        if isinstance(component, Tool) and component.step_up:
            return True
        return component.allows(self.auth)


class McpServer:
    """Answers MCP requests from a :class:`Registry`."""

    def __init__(
        self,
        registry: Registry,
        *,
        info: dict[str, t.Any],
        instructions: str | None = None,
        page_size: int = 50,
        request_timeout: float = 60.0,
        mask_errors: bool = True,
    ) -> None:
        self.registry = registry
        self.info = info
        self.instructions = instructions
        self.page_size = page_size
        self.request_timeout = request_timeout
        self.mask_errors = mask_errors
        self._methods: dict[str, t.Callable[[Request, Call], dict[str, t.Any]]] = {
            "ping": lambda request, call: {},
            "tools/list": self._tools_list,
            "tools/call": self._tools_call,
            "resources/list": self._resources_list,
            "resources/templates/list": self._templates_list,
            "resources/read": self._resources_read,
            "resources/subscribe": self._subscribe,
            "resources/unsubscribe": self._unsubscribe,
            "prompts/list": self._prompts_list,
            "prompts/get": self._prompts_get,
            "completion/complete": self._complete,
            "logging/setLevel": self._set_level,
        }

    capabilities: t.ClassVar[dict[str, t.Any]] = {
        "tools": {"listChanged": True},
        "resources": {"subscribe": True, "listChanged": True},
        "prompts": {"listChanged": True},
        "logging": {},
        "completions": {},
    }

    def knows(self, method: str) -> bool:
        return method == "initialize" or method in self._methods

    def initialize(self, params: dict[str, t.Any]) -> tuple[str, dict[str, t.Any]]:
        """Negotiate a version; the transport opens the session around this."""
        version = negotiate(params.get("protocolVersion"))
        result: dict[str, t.Any] = {
            "protocolVersion": version,
            "capabilities": self.capabilities,
            "serverInfo": self.info,
        }
        if self.instructions:
            result["instructions"] = self.instructions
        return version, result

    def wants_channel(self, request: Request) -> bool:
        """Whether the handler may talk to the client while it runs."""
        tables: dict[str, t.Mapping[str, Component]] = {
            "tools/call": self.registry.tools,
            "prompts/get": self.registry.prompts,
        }
        table = tables.get(request.method, {})
        name = request.params.get("name")
        handler = table.get(name) if isinstance(name, str) else None
        return handler is not None and handler.wants_context

    def handle(self, request: Request, call: Call) -> dict[str, t.Any]:
        """The result of one request, or :class:`JsonRpcError`."""
        method = self._methods.get(request.method)
        if method is None:
            raise JsonRpcError(METHOD_NOT_FOUND, f"Method not found: {request.method}")
        return method(request, call)

    def context(self, request: Request, call: Call) -> Context:
        session = call.session
        return Context(
            request_id=request.id,
            session_id=call.session_id,
            protocol_version=call.protocol_version,
            channel=call.channel,
            meta=request.params.get("_meta"),
            log_level=session.log_level if session else None,
            client_capabilities=session.client_capabilities if session else None,
            auth=call.auth,
            request_timeout=self.request_timeout,
        )

    # -- lists -----------------------------------------------------------

    def _page(
        self, kind: str, table: t.Mapping[str, H], params: dict[str, t.Any], call: Call
    ):
        visible = [item for item in table.values() if call.allows(item)]
        try:
            page, cursor = paginate(kind, visible, params.get("cursor"), self.page_size)
        except InvalidCursor as exc:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid cursor: {exc}") from None
        result: dict[str, t.Any] = {kind: [item.listing() for item in page]}  # type: ignore[attr-defined]
        if cursor is not None:
            result["nextCursor"] = cursor
        return result

    def _tools_list(self, request: Request, call: Call) -> dict[str, t.Any]:
        return self._page("tools", self.registry.tools, request.params, call)

    def _resources_list(self, request: Request, call: Call) -> dict[str, t.Any]:
        return self._page("resources", self.registry.resources, request.params, call)

    def _templates_list(self, request: Request, call: Call) -> dict[str, t.Any]:
        return self._page(
            "resourceTemplates", self.registry.templates, request.params, call
        )

    def _prompts_list(self, request: Request, call: Call) -> dict[str, t.Any]:
        return self._page("prompts", self.registry.prompts, request.params, call)

    # -- tools -------------------------------------------------------------

    def _tools_call(self, request: Request, call: Call) -> dict[str, t.Any]:
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
        try:
            value = tool.invoke(kwargs, self.context(request, call))
        except ToolError as exc:
            return error_result(str(exc))
        except Exception as exc:
            log.exception("tool %r raised", name)
            return error_result(self._describe_failure(f"Tool {name}", exc))
        return tool.to_result(value)

    def _describe_failure(self, what: str, exc: Exception) -> str:
        if self.mask_errors:
            return f"{what} failed with an internal error"
        return f"{what} failed: {type(exc).__name__}: {exc}"

    # -- resources ---------------------------------------------------------

    def _resources_read(self, request: Request, call: Call) -> dict[str, t.Any]:
        params = request.params
        uri = params.get("uri")
        if not isinstance(uri, str):
            raise JsonRpcError(INVALID_PARAMS, "resources/read needs a string 'uri'")
        resource = self._find_resource(uri, call)
        if resource is None:
            raise JsonRpcError(RESOURCE_NOT_FOUND, "Resource not found", {"uri": uri})
        handler, variables = resource
        try:
            kwargs = handler.load(variables)
        except ValueError as exc:
            raise JsonRpcError(INVALID_PARAMS, f"Invalid {uri}: {exc}") from None
        try:
            value = handler.invoke(kwargs, self.context(request, call))
        except JsonRpcError:
            raise
        except Exception as exc:
            log.exception("resource %r raised", uri)
            raise JsonRpcError(
                -32603, self._describe_failure(f"Reading {uri}", exc)
            ) from None
        return {"contents": handler.contents(uri, value)}

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
            raise JsonRpcError(RESOURCE_NOT_FOUND, "Resource not found", {"uri": uri})
        if call.session is None:
            raise JsonRpcError(INVALID_PARAMS, "subscriptions need an MCP session")
        return uri

    def _subscribe(self, request: Request, call: Call) -> dict[str, t.Any]:
        params = request.params
        uri = self._subscription_uri(params, call)
        call.session.subscribe(uri)  # type: ignore[union-attr]
        return {}

    def _unsubscribe(self, request: Request, call: Call) -> dict[str, t.Any]:
        params = request.params
        uri = self._subscription_uri(params, call)
        call.session.unsubscribe(uri)  # type: ignore[union-attr]
        return {}

    # -- prompts -----------------------------------------------------------

    def _prompts_get(self, request: Request, call: Call) -> dict[str, t.Any]:
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
        try:
            value = prompt.invoke(kwargs, self.context(request, call))
        except Exception as exc:
            log.exception("prompt %r raised", name)
            raise JsonRpcError(
                -32603, self._describe_failure(f"Prompt {name}", exc)
            ) from None
        result: dict[str, t.Any] = {"messages": Prompt.messages(value)}
        if prompt.description:
            result["description"] = prompt.description
        return result

    # -- completion and logging ------------------------------------------

    def _complete(self, request: Request, call: Call) -> dict[str, t.Any]:
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
        argument_name = argument.get("name")
        value = str(argument.get("value", ""))
        completer = self.registry.completers.get((kind, key, str(argument_name)))
        values: list[str] = []
        if completer is not None:
            context_args = (params.get("context") or {}).get("arguments") or {}
            values = [str(v) for v in run_sync(completer(value, context_args))]
        elif hasattr(target, "choices"):
            # Enum and Literal parameters complete to their allowed values.
            values = [
                c for c in target.choices(str(argument_name)) if c.startswith(value)
            ]
        return {
            "completion": {
                "values": values[:100],
                "total": len(values),
                "hasMore": len(values) > 100,
            }
        }

    def _set_level(self, request: Request, call: Call) -> dict[str, t.Any]:
        params = request.params
        level = params.get("level")
        if level not in LOG_LEVELS:
            raise JsonRpcError(INVALID_PARAMS, f"Unknown log level: {level}")
        if call.session is not None:
            call.session.set_log_level(level)
        return {}


def _named(table: t.Mapping[str, H], name: object, kind: str, call: Call) -> H:
    """A component by name; a hidden one is as unknown as a missing one."""
    item = table.get(name) if isinstance(name, str) else None
    if item is None or not call.allows(item):
        raise JsonRpcError(INVALID_PARAMS, f"Unknown {kind}: {name}")
    return item
