"""MCP method dispatch for both protocol eras.

Transport-neutral: a transport decodes messages, builds a
:class:`~.call.Call` for each request and hands it to
:meth:`McpServer.handle`. Legacy revisions (2025-03-26 to 2025-11-25) open a
session with :meth:`McpServer.initialize`; modern ones (2026-07-28) describe
the server with ``server/discover`` and get ``resultType`` and
``serverInfo`` on every result.
"""

from __future__ import annotations

import typing as t

from ..components.registry import Registry
from .call import Call
from .envelope import META_SERVER_INFO
from .inputs import StateCodec
from .jsonrpc import METHOD_NOT_FOUND
from .jsonrpc import JsonRpcError
from .jsonrpc import Request
from .methods import CachePolicy
from .methods import Methods
from .tasking.task_methods import TaskMethods
from .tasking.wire import EXTENSION as TASKS_EXTENSION
from .versions import MODERN_VERSIONS
from .versions import has_legacy_tasks
from .versions import negotiate

Result = dict[str, t.Any]
Method = t.Callable[[Request, Call], Result]

#: ``subscriptions/listen`` is answered by the transport (a stream), but it
#: is a method of the modern era all the same.
LISTEN = "subscriptions/listen"


def implementation(
    name: str,
    version: str,
    *,
    title: str | None = None,
    description: str | None = None,
    website_url: str | None = None,
    icons: t.Sequence[dict[str, t.Any]] = (),
) -> Result:
    """``serverInfo``: the spec's ``Implementation`` (2025-11-25 fields included)."""
    info: Result = {"name": name, "version": version}
    for key, value in (
        ("title", title),
        ("description", description),
        ("websiteUrl", website_url),
    ):
        if value is not None:
            info[key] = value
    if icons:
        info["icons"] = list(icons)
    return info


class McpServer:
    """Answers MCP requests from a :class:`Registry`.

    :param info: ``serverInfo`` (the spec's ``Implementation``).
    :param codec: seals the ``requestState`` of modern multi-round calls.
    :param cache: caching hints of modern results.
    :param passthrough: exceptions handlers may raise to end the HTTP request.
    :param tasks: runs tool calls as tasks (both eras); ``None``: no tasks.
    """

    capabilities: t.ClassVar[dict[str, t.Any]] = {
        "tools": {"listChanged": True},
        "resources": {"subscribe": True, "listChanged": True},
        "prompts": {"listChanged": True},
        "logging": {},
        "completions": {},
    }

    def __init__(
        self,
        registry: Registry,
        *,
        info: dict[str, t.Any],
        codec: StateCodec,
        instructions: str | None = None,
        page_size: int = 50,
        request_timeout: float = 60.0,
        mask_errors: bool = True,
        cache: CachePolicy | None = None,
        passthrough: tuple[type[Exception], ...] = (),
        tasks: TaskMethods | None = None,
    ) -> None:
        self.registry = registry
        self.tasks = tasks
        self.info = info
        self.instructions = instructions
        self.methods = Methods(
            registry,
            page_size=page_size,
            request_timeout=request_timeout,
            mask_errors=mask_errors,
            codec=codec,
            cache=cache or CachePolicy(),
            passthrough=passthrough,
        )
        m = self.methods
        m.tasks = tasks
        features: dict[str, Method] = {
            "tools/list": m.tools_list,
            "tools/call": m.tools_call,
            "resources/list": m.resources_list,
            "resources/templates/list": m.templates_list,
            "resources/read": m.resources_read,
            "prompts/list": m.prompts_list,
            "prompts/get": m.prompts_get,
            "completion/complete": m.complete,
        }
        self._legacy: dict[str, Method] = {
            **features,
            "ping": lambda request, call: {},
            "resources/subscribe": m.subscribe,
            "resources/unsubscribe": m.unsubscribe,
            "logging/setLevel": m.set_level,
        }
        self._modern: dict[str, Method] = {
            **features,
            "server/discover": self._discover,
        }
        if tasks is not None:
            self._legacy.update(
                {
                    name: _legacy_tasks(method)
                    for name, method in (
                        ("tasks/get", tasks.get),
                        ("tasks/result", tasks.result),
                        ("tasks/list", tasks.list),
                        ("tasks/cancel", tasks.cancel),
                    )
                }
            )
            self._modern.update(
                {
                    "tasks/get": tasks.get,
                    "tasks/update": tasks.update,
                    "tasks/cancel": tasks.cancel,
                }
            )

    def capabilities_for(self, version: str) -> dict[str, t.Any]:
        """What the server offers a client of ``version``: tasks appear as
        ``tasks`` on 2025-11-25 and as an extension on 2026-07-28."""
        if self.tasks is None:
            return self.capabilities
        if version in MODERN_VERSIONS:
            return {**self.capabilities, "extensions": {TASKS_EXTENSION: {}}}
        if has_legacy_tasks(version):
            support: Result = {
                "list": {},
                "cancel": {},
                "requests": {"tools": {"call": {}}},
            }
            return {**self.capabilities, "tasks": support}
        return self.capabilities

    def knows(self, method: str, *, modern: bool = False) -> bool:
        if modern:
            return method in self._modern or method == LISTEN
        return method == "initialize" or method in self._legacy

    def handle(self, request: Request, call: Call) -> Result:
        """The result of one request, or :class:`JsonRpcError`."""
        table = self._modern if call.modern else self._legacy
        method = table.get(request.method)
        if method is None:
            raise JsonRpcError(METHOD_NOT_FOUND, f"Method not found: {request.method}")
        result = method(request, call)
        if call.modern:
            result.setdefault("resultType", "complete")
            meta = result.setdefault("_meta", {})
            meta[META_SERVER_INFO] = self.info
        return result

    def wants_channel(self, request: Request) -> bool:
        """Whether the handler may talk to the client while it runs."""
        if request.method == "tasks/result":
            return True  # its questions are live requests (2025-11-25)
        name = request.params.get("name")
        if not isinstance(name, str):
            return False
        if request.method == "tools/call":
            handler: t.Any = self.registry.tools.get(name)
        elif request.method == "prompts/get":
            handler = self.registry.prompts.get(name)
        else:
            return False
        return handler is not None and bool(handler.wants_context)

    # -- lifecycle ---------------------------------------------------------

    def initialize(self, params: dict[str, t.Any]) -> tuple[str, Result]:
        """Negotiate a legacy version; the transport opens the session around this."""
        version = negotiate(params.get("protocolVersion"))
        result: Result = {
            "protocolVersion": version,
            "capabilities": self.capabilities_for(version),
            "serverInfo": self.info,
        }
        if self.instructions:
            result["instructions"] = self.instructions
        return version, result

    def _discover(self, request: Request, call: Call) -> Result:
        """``server/discover``: what this server speaks and offers (2026-07-28).

        Only modern versions are listed: legacy ones are negotiated by
        ``initialize``, as both reference SDKs do.
        """
        result: Result = {
            "supportedVersions": list(MODERN_VERSIONS),
            "capabilities": self.capabilities_for(call.protocol_version),
            **self.methods.cache.hints(self.methods.cache.list_ttl_ms),
        }
        if self.instructions:
            result["instructions"] = self.instructions
        return result


def _legacy_tasks(method: Method) -> Method:
    """A ``tasks/*`` method of 2025-11-25: unknown to older sessions."""

    def serve(request: Request, call: Call) -> Result:
        if not has_legacy_tasks(call.protocol_version):
            raise JsonRpcError(METHOD_NOT_FOUND, f"Method not found: {request.method}")
        return method(request, call)

    return serve
