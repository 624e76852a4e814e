"""A small MCP client over plain ``requests``, for load and fault tests
that need to see every status code (the official client hides them).

* :func:`modern_call`: one 2026-07-28 ``tools/call`` (no session);
* :class:`LegacySession`: ``initialize`` (a 2025-11-25 session), then
  ``call`` its tools, JSON or SSE answers alike.

Every function returns the :class:`requests.Response` and its final
JSON-RPC message (``None`` when there is none, as in a 503).
"""

from __future__ import annotations

import itertools
import json
import typing as t

import requests

__all__ = ["LegacySession", "final_message", "modern_call"]

MODERN = "2026-07-28"
LEGACY = "2025-11-25"
_ids = itertools.count(1)


def final_message(response: requests.Response) -> dict[str, t.Any] | None:
    """The JSON-RPC response in a JSON or SSE body (the last message with
    an ``id`` and a ``result`` or ``error``)."""
    kind = response.headers.get("Content-Type", "")
    if kind.startswith("application/json"):
        body = response.json()
        return body if isinstance(body, dict) else None
    if not kind.startswith("text/event-stream"):
        return None
    found = None
    for line in response.text.splitlines():
        if line.startswith("data:"):
            with_data = line[5:].strip()
            if not with_data:
                continue
            message = json.loads(with_data)
            if "result" in message or "error" in message:
                found = message
    return found


def modern_call(
    http: requests.Session,
    url: str,
    name: str,
    arguments: dict[str, t.Any],
    *,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[requests.Response, dict[str, t.Any] | None]:
    body: dict[str, t.Any] = {
        "jsonrpc": "2.0",
        "id": next(_ids),
        "method": "tools/call",
        "params": {
            "_meta": {
                "io.modelcontextprotocol/protocolVersion": MODERN,
                "io.modelcontextprotocol/clientCapabilities": {},
                "io.modelcontextprotocol/clientInfo": {"name": "t", "version": "0"},
            },
            "name": name,
            "arguments": arguments,
        },
    }
    response = http.post(
        url,
        json=body,
        headers={
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": MODERN,
            "Mcp-Method": "tools/call",
            "Mcp-Name": name,
            **(headers or {}),
        },
        timeout=timeout,
    )
    return response, final_message(response)


class LegacySession:
    """One 2025-11-25 session at ``url`` (:meth:`open` first)."""

    def __init__(self, http: requests.Session, url: str, timeout: float = 30) -> None:
        self.http = http
        self.url = url
        self.timeout = timeout
        self.id: str | None = None

    def _post(self, body: dict[str, t.Any]) -> requests.Response:
        headers = {
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": LEGACY,
        }
        if self.id:
            headers["Mcp-Session-Id"] = self.id
        return self.http.post(
            self.url, json=body, headers=headers, timeout=self.timeout
        )

    def open(self) -> requests.Response:
        """``initialize`` and ``notifications/initialized``; the first
        response (its session id is kept when it succeeded)."""
        response = self._post(
            {
                "jsonrpc": "2.0",
                "id": next(_ids),
                "method": "initialize",
                "params": {
                    "protocolVersion": LEGACY,
                    "capabilities": {},
                    "clientInfo": {"name": "t", "version": "0"},
                },
            }
        )
        if response.status_code == 200:
            self.id = response.headers["Mcp-Session-Id"]
            done = self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})
            if done.status_code != 202:
                return done
        return response

    def call(
        self, name: str, arguments: dict[str, t.Any], progress: bool = False
    ) -> tuple[requests.Response, dict[str, t.Any] | None]:
        params: dict[str, t.Any] = {"name": name, "arguments": arguments}
        if progress:
            params["_meta"] = {"progressToken": f"p-{next(_ids)}"}
        response = self._post(
            {
                "jsonrpc": "2.0",
                "id": next(_ids),
                "method": "tools/call",
                "params": params,
            }
        )
        return response, final_message(response)
