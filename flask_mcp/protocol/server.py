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
from .versions import MODERN_VERSIONS
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
    ) -> None:
        self.registry = registry
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
            "capabilities": self.capabilities,
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
            "capabilities": self.capabilities,
            **self.methods.cache.hints(self.methods.cache.list_ttl_ms),
        }
        if self.instructions:
            result["instructions"] = self.instructions
        return result
