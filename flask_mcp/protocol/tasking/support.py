"""Whether a ``tools/call`` becomes a task, by era and by the tool's ``task=``.

2026-07-28 (extension, "Capability Negotiation"): the server decides, and
only for a request that declares the extension in its own capabilities. A
tool that must run as a task, called without the extension, is refused with
-32021 naming the extension. A ``task`` param (the 2025 hint) is ignored.

2025-11-25 ("Tool-Level Negotiation"): the client asks with ``params.task``.
Asking for a ``forbidden`` tool, or not asking for a ``required`` one, is
refused with -32601. Earlier revisions have no tasks: ``params.task`` is
ignored and a ``required`` tool cannot be called.
"""

from __future__ import annotations

import math
import typing as t
from collections import abc
from dataclasses import dataclass

from ...components.tools import Tool
from ..jsonrpc import INVALID_PARAMS
from ..jsonrpc import METHOD_NOT_FOUND
from ..jsonrpc import MISSING_CLIENT_CAPABILITY
from ..jsonrpc import JsonRpcError
from ..versions import has_legacy_tasks
from .wire import EXTENSION


@dataclass(frozen=True)
class Plan:
    """How a call that becomes a task starts.

    :param prelude: run the handler in the request first, until it calls
        ``ctx.start_task()`` (a tool registered with ``ask_first=True``, on
        2026-07-28: its first questions are answered by retrying the call).
    :param ttl_ms: the lifetime the client asked for (2025), if any.
    """

    prelude: bool = False
    ttl_ms: int | None = None


def declares_extension(capabilities: abc.Mapping[str, t.Any]) -> bool:
    """Whether these client capabilities declare the tasks extension."""
    extensions = capabilities.get("extensions")
    return isinstance(extensions, dict) and isinstance(extensions.get(EXTENSION), dict)


def missing_extension(what: str) -> JsonRpcError:
    """-32021 naming the extension (SEP-2575 "Missing Required Capabilities")."""
    return JsonRpcError(
        MISSING_CLIENT_CAPABILITY,
        f"Missing required client capability: {what} needs the {EXTENSION}"
        " extension in this request's client capabilities",
        {"requiredCapabilities": {"extensions": {EXTENSION: {}}}},
    )


def plan(
    tool: Tool,
    params: abc.Mapping[str, t.Any],
    *,
    modern: bool,
    version: str,
    capabilities: abc.Mapping[str, t.Any],
) -> Plan | None:
    """How this call of ``tool`` runs as a task, or ``None`` to run it now.

    :raises JsonRpcError: when the call and the tool's ``task=`` disagree.
    """
    if modern:
        if tool.task == "forbidden":
            return None
        if not declares_extension(capabilities):
            if tool.task == "required":
                raise missing_extension(f"tool {tool.name}")
            return None
        return Plan(prelude=tool.ask_first)
    asked = params.get("task")
    if not has_legacy_tasks(version):
        if tool.task == "required":
            raise JsonRpcError(
                METHOD_NOT_FOUND,
                f"Tool {tool.name} runs only as a task, which needs protocol"
                " version 2025-11-25 or later",
            )
        return None
    if asked is None:
        if tool.task == "required":
            raise JsonRpcError(
                METHOD_NOT_FOUND,
                f"Tool {tool.name} runs only as a task: add params.task",
            )
        return None
    if tool.task == "forbidden":
        raise JsonRpcError(METHOD_NOT_FOUND, f"Tool {tool.name} does not run as a task")
    if not isinstance(asked, dict):
        raise JsonRpcError(INVALID_PARAMS, "Invalid params: task must be an object")
    ttl = asked.get("ttl")
    if ttl is not None and (
        isinstance(ttl, bool)
        or not isinstance(ttl, (int, float))
        or not math.isfinite(ttl)  # json.loads reads Infinity and NaN
        or ttl < 0
    ):
        raise JsonRpcError(
            INVALID_PARAMS, "Invalid params: task.ttl must be milliseconds >= 0"
        )
    return Plan(ttl_ms=None if ttl is None else int(ttl))
