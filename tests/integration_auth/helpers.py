"""Speak MCP over plain HTTP, to a gunicorn server (requests) or a Flask app.

:class:`Http` hides which of the two answers; :class:`McpClient` adds the MCP
bits (initialize, session header, JSON-RPC ids). Replies are kept raw
(status, headers, body) so tests can compare them byte for byte.
"""

from __future__ import annotations

import itertools
import json
import re
import typing as t
from dataclasses import dataclass
from dataclasses import field

import requests
from flask import Flask

PROTOCOL_VERSION = "2025-11-25"
ACCEPT = "application/json, text/event-stream"
#: The code flask_mcp answers refused credentials with, and "session not found".
AUTH_ERROR = -32000
SESSION_NOT_FOUND = -32001
INVALID_PARAMS = -32602
RESOURCE_NOT_FOUND = -32002


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip()

    def json(self) -> t.Any:
        """The JSON body; for an SSE answer, the last JSON-RPC response in it."""
        if self.content_type == "text/event-stream":
            messages = [
                json.loads(line[len("data:") :])
                for line in self.body.decode().splitlines()
                if line.startswith("data:") and line[len("data:") :].strip()
            ]
            responses = [m for m in messages if "method" not in m]
            assert responses, f"no response in the stream: {self.body!r}"
            return responses[-1]
        return json.loads(self.body)

    def challenge(self) -> dict[str, str]:
        """The parameters of the ``WWW-Authenticate: Bearer`` header."""
        value = self.header("WWW-Authenticate")
        assert value is not None, f"no WWW-Authenticate on a {self.status}"
        return parse_bearer(value)


def parse_bearer(value: str) -> dict[str, str]:
    """``Bearer a="b", c="d"`` -> ``{"a": "b", "c": "d"}``.

    Asserts the scheme and that every parameter is a quoted ``name="value"``.
    """
    scheme, _, rest = value.partition(" ")
    assert scheme == "Bearer", value
    params: dict[str, str] = {}
    position = 0
    pattern = re.compile(r'([a-z_]+)="((?:[^"\\]|\\.)*)"(?:, |$)')
    while position < len(rest):
        match = pattern.match(rest, position)
        assert match, f"unparsable challenge {value!r} at {rest[position:]!r}"
        params[match.group(1)] = re.sub(r"\\(.)", r"\1", match.group(2))
        position = match.end()
    return params


class Http:
    """One HTTP surface: ``Http(url=...)`` (real server) or ``Http(app=...)``."""

    def __init__(self, *, url: str | None = None, app: Flask | None = None) -> None:
        assert (url is None) != (app is None)
        self.url = url
        self.base = url or "http://localhost"
        self._session = requests.Session() if url else None
        self._client = app.test_client() if app is not None else None

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: t.Mapping[str, str] | None = None,
        body: t.Any = None,
        raw: bytes | None = None,
        query: t.Mapping[str, str] | None = None,
    ) -> Reply:
        data = raw if raw is not None else None
        if body is not None:
            data = json.dumps(body).encode()
        headers = dict(headers or {})
        if self._session is not None:
            response = self._session.request(
                method,
                self.base + path,
                headers=headers,
                data=data,
                params=query,
                timeout=30,
            )
            return Reply(
                response.status_code,
                {k.lower(): v for k, v in response.headers.items()},
                response.content,
            )
        assert self._client is not None
        response = self._client.open(
            path, method=method, headers=headers, data=data, query_string=query
        )
        try:
            return Reply(
                response.status_code,
                {k.lower(): v for k, v in response.headers.items()},
                response.get_data(),
            )
        finally:
            response.close()

    def get(self, path: str, **kwargs: t.Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def close(self) -> None:
        if self._session is not None:
            self._session.close()


_ids = itertools.count(1)


@dataclass
class McpClient:
    """An MCP client over :class:`Http` with fixed credential headers."""

    http: Http
    headers: dict[str, str] = field(default_factory=dict)
    path: str = "/mcp"
    version: str = PROTOCOL_VERSION
    session_id: str | None = None

    def post(
        self,
        payload: t.Any,
        *,
        headers: t.Mapping[str, str] | None = None,
        session: bool = True,
        **kwargs: t.Any,
    ) -> Reply:
        merged = {"Accept": ACCEPT, "Content-Type": "application/json"}
        merged.update(self.headers)
        if session and self.session_id is not None:
            merged["Mcp-Session-Id"] = self.session_id
            merged["MCP-Protocol-Version"] = self.version
        merged.update(headers or {})
        return self.http.request(
            "POST", self.path, headers=merged, body=payload, **kwargs
        )

    def initialize(self, **kwargs: t.Any) -> Reply:
        reply = self.post(
            {
                "jsonrpc": "2.0",
                "id": next(_ids),
                "method": "initialize",
                "params": {
                    "protocolVersion": self.version,
                    "capabilities": {},
                    "clientInfo": {"name": "integration-auth", "version": "1"},
                },
            },
            session=False,
            **kwargs,
        )
        if reply.status == 200:
            self.session_id = reply.header("Mcp-Session-Id")
            assert self.session_id
            done = self.post({"jsonrpc": "2.0", "method": "notifications/initialized"})
            assert done.status == 202, done
        return reply

    def rpc(
        self,
        method: str,
        params: dict[str, t.Any] | None = None,
        *,
        request_id: t.Any = None,
        **kwargs: t.Any,
    ) -> Reply:
        message: dict[str, t.Any] = {
            "jsonrpc": "2.0",
            "id": next(_ids) if request_id is None else request_id,
            "method": method,
        }
        if params is not None:
            message["params"] = params
        return self.post(message, **kwargs)

    def result(self, method: str, params: dict[str, t.Any] | None = None) -> t.Any:
        """The result of a request that must succeed."""
        reply = self.rpc(method, params)
        assert reply.status == 200, (reply.status, reply.body)
        message = reply.json()
        assert "result" in message, message
        return message["result"]

    def names(self, kind: str) -> set[str]:
        """Every name (or URI/template) a list method shows, all pages."""
        method, key, field_name = {
            "tools": ("tools/list", "tools", "name"),
            "prompts": ("prompts/list", "prompts", "name"),
            "resources": ("resources/list", "resources", "uri"),
            "templates": (
                "resources/templates/list",
                "resourceTemplates",
                "uriTemplate",
            ),
        }[kind]
        found: set[str] = set()
        cursor = None
        while True:
            result = self.result(method, {"cursor": cursor} if cursor else {})
            found |= {item[field_name] for item in result[key]}
            cursor = result.get("nextCursor")
            if not cursor:
                return found


def error_of(reply: Reply) -> dict[str, t.Any]:
    """The JSON-RPC error of a reply (asserting it is one)."""
    message = reply.json()
    assert "error" in message and "result" not in message, message
    return t.cast(dict[str, t.Any], message["error"])


def normalized(reply: Reply, name: str, placeholder: str = "<NAME>") -> t.Any:
    """Status, content type and body of a reply with ``name`` replaced, to compare
    the answer about one component with the answer about another."""
    message = reply.json()
    message.pop("id", None)
    text = json.dumps(message, sort_keys=True).replace(name, placeholder)
    return reply.status, reply.content_type, json.loads(text)
