"""A 2025 session on a Flask test client, for the in-process tests."""

from __future__ import annotations

import json
import typing as t


def headers(version: str = "2025-11-25") -> dict[str, str]:
    return {
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
        "MCP-Protocol-Version": version,
    }


def open_session(
    client: t.Any,
    version: str = "2025-11-25",
    capabilities: dict[str, t.Any] | None = None,
) -> dict[str, str]:
    """``initialize`` on ``client``; the headers of the session's requests."""
    body = {
        "jsonrpc": "2.0",
        "id": 0,
        "method": "initialize",
        "params": {
            "protocolVersion": version,
            "capabilities": capabilities or {},
            "clientInfo": {"name": "t", "version": "1"},
        },
    }
    opened = client.post("/mcp", data=json.dumps(body), headers=headers(version))
    return {**headers(version), "Mcp-Session-Id": opened.headers["Mcp-Session-Id"]}
