"""The official MCP Python client (PyPI ``mcp``) against a running server,
with the headers a script would send (an API key, a bearer token), in either
era: ``mode="legacy"`` (initialize handshake) or ``"auto"`` (2026-07-28
discovery first)."""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError

#: A managed key, as ``flask mcp keys create`` prints it.
KEY = re.compile(r"mcpk_[0-9a-f]{16}_[A-Za-z0-9_-]{43}")


@dataclass
class Outcome:
    """What the client saw: the tool names listed and the texts of each call."""

    tools: list[str]
    texts: dict[str, str]


def use(
    url: str,
    headers: t.Mapping[str, str],
    calls: t.Sequence[str],
    mode: str = "auto",
) -> Outcome:
    """List the tools, then call each of ``calls`` (no arguments)."""

    async def main() -> Outcome:
        async with httpx2.AsyncClient(
            headers=dict(headers), timeout=httpx2.Timeout(20)
        ) as http:
            async with Client(
                streamable_http_client(url, http_client=http),
                mode=mode,
                read_timeout_seconds=20,
            ) as client:
                listed = await client.list_tools()
                texts = {}
                for name in calls:
                    result = await client.call_tool(name, {})
                    assert not result.is_error, result
                    texts[name] = " ".join(
                        getattr(block, "text", "") for block in result.content
                    )
                return Outcome([tool.name for tool in listed.tools], texts)

    return anyio.run(main)


def refused(
    url: str, headers: t.Mapping[str, str], mode: str = "auto"
) -> list[MCPError]:
    """The MCP errors the client raised trying to list tools (it must fail)."""
    try:
        use(url, headers, (), mode)
    except Exception as error:  # the client wraps errors in exception groups
        return _mcp_errors(error)
    raise AssertionError("the client was let in")


def _mcp_errors(error: BaseException) -> list[MCPError]:
    if isinstance(error, MCPError):
        return [error]
    return [
        found for sub in getattr(error, "exceptions", ()) for found in _mcp_errors(sub)
    ]
