"""The requests the gateway tests send by hand (no client library)."""

from __future__ import annotations

import json
import typing as t

MODERN = "2026-07-28"

#: The headers of a ``subscriptions/listen`` POST.
LISTEN_HEADERS = {
    "Accept": "application/json, text/event-stream",
    "Content-Type": "application/json",
    "MCP-Protocol-Version": MODERN,
    "Mcp-Method": "subscriptions/listen",
}


def listen_body(request_id: t.Any) -> str:
    """A 2026-07-28 listen for tool list changes, under ``request_id``."""
    return json.dumps(
        {
            "jsonrpc": "2.0",
            "id": request_id,
            "method": "subscriptions/listen",
            "params": {
                "_meta": {
                    "io.modelcontextprotocol/protocolVersion": MODERN,
                    "io.modelcontextprotocol/clientCapabilities": {},
                    "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "1"},
                },
                "notifications": {"toolsListChanged": True},
            },
        }
    )
