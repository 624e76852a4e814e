"""An in-process MCP client for testing a server, over Flask's test client.

::

    def test_add(app):
        with mcp.test_client(app) as client:
            assert client.call_tool("add", {"a": 1, "b": 2})["structuredContent"] == ...

It performs the handshake and keeps the session (2025-11-25 by default), or
speaks 2026-07-28 per request when asked to; either way it answers the
server's sampling, elicitation and roots questions with the callables it was
given, so tools that ask the user can be tested without a real client.

It checks what the server sends as the official Python client does
(:mod:`flask_mcp.wire_check`): every result, notification and question
against the MCP schema of the revision it speaks, and a tool's
``structuredContent`` against its ``outputSchema``. What a real client would
reject fails the test with :class:`~flask_mcp.wire_check.WireViolation`.
"""

from __future__ import annotations

import base64
import itertools
import json
import typing as t

from flask import Flask

from .errors import FlaskMCPError
from .protocol.envelope import META_CAPABILITIES
from .protocol.envelope import META_CLIENT_INFO
from .protocol.envelope import META_VERSION
from .protocol.envelope import NAMED_METHODS
from .protocol.versions import is_modern
from .wire_check import WireChecker
from .wire_check import can_check
from .wire_check import check_structured
from .wire_check import warn_unchecked

if t.TYPE_CHECKING:
    from werkzeug.test import TestResponse

    from .state import MCPState

Result = dict[str, t.Any]
#: Answers a question: gets the request's ``params``, returns its result.
Answer = t.Callable[[Result], Result]

_ACCEPT = "application/json, text/event-stream"
_CLIENT_INFO = {"name": "flask_mcp.testing", "version": "1"}
_MAX_ROUNDS = 10


class _Server(t.Protocol):
    """What the client needs of a :class:`~flask_mcp.FlaskMCP`: its state."""

    def state(self, app: Flask | None = None) -> MCPState: ...


class MCPError(FlaskMCPError):
    """The server answered with a JSON-RPC error (or refused over HTTP).

    :param status: the HTTP status of the answer.
    """

    def __init__(self, code: int, message: str, data: t.Any = None, status: int = 200):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.data = data
        self.status = status


class MCPTestClient:
    """Talks MCP to one :class:`~flask_mcp.FlaskMCP` through ``app.test_client()``.

    :param headers: sent with every request (``{"X-API-Key": ...}``).
    :param protocol_version: a 2025 version (handshake and session) or
        ``"2026-07-28"`` (per-request metadata, multi round-trip questions).
    :param sampling: answers ``sampling/createMessage``.
    :param elicitation: answers ``elicitation/create``.
    :param roots: the client's roots, for ``roots/list``.
    :param capabilities: declared on top of those the answers imply, such
        as ``{"elicitation": {"form": {}, "url": {}}}``.
    :param validate: check what the server sends as a real client does:
        against the MCP schema of the era (with ``mcp-types``, the
        ``testing`` extra) and, for ``tools/call``, against the tool's output
        schema (with jsonschema, always there). ``None`` (the default): both,
        the first only when ``mcp-types`` is installed, else with a warning
        (:class:`~flask_mcp.wire_check.SchemaNotChecked`); ``True``: both,
        and fail without ``mcp-types``; ``False``: neither (to test a
        server's answer to a broken client, say).
    """

    def __init__(
        self,
        mcp: _Server,
        app: Flask,
        *,
        headers: t.Mapping[str, str] | None = None,
        protocol_version: str = "2025-11-25",
        sampling: Answer | None = None,
        elicitation: Answer | None = None,
        roots: list[Result] | None = None,
        capabilities: Result | None = None,
        validate: bool | None = None,
    ) -> None:
        if validate is None:
            validate = True
            self.schema_checks = can_check()
            if not self.schema_checks:
                warn_unchecked()
        elif validate and not can_check():
            raise RuntimeError(
                "validate=True checks results with mcp-types:"
                " pip install 'flask-mcp[testing]'"
            )
        else:
            self.schema_checks = validate
        #: Whether results are checked at all (output schemas at least).
        self.validate = validate
        #: The tools' ``outputSchema`` by name, from the last ``tools/list``.
        self._output_schemas: dict[str, Result | None] = {}
        self.app = app
        self._extra_capabilities = dict(capabilities or {})
        self.path = mcp.state(app).settings.path
        self.http = app.test_client()
        self.headers = dict(headers or {})
        self.protocol_version = protocol_version
        self.session_id: str | None = None
        #: Notifications the server sent (logs, progress, list changes).
        self.notifications: list[Result] = []
        self._answers: dict[str, Answer] = {}
        if sampling is not None:
            self._answers["sampling/createMessage"] = sampling
        if elicitation is not None:
            self._answers["elicitation/create"] = elicitation
        if roots is not None:
            self._answers["roots/list"] = lambda params: {"roots": roots}
        self._ids = itertools.count(1)

    @property
    def modern(self) -> bool:
        return is_modern(self.protocol_version)

    @property
    def capabilities(self) -> Result:
        """What this client declares: one capability per answer it was given."""
        names = {
            "sampling/createMessage": "sampling",
            "elicitation/create": "elicitation",
            "roots/list": "roots",
        }
        declared: Result = {names[method]: {} for method in self._answers}
        return {**declared, **self._extra_capabilities}

    # -- lifecycle ---------------------------------------------------------

    def __enter__(self) -> MCPTestClient:
        if not self.modern:
            self.initialize()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def initialize(self) -> Result:
        """The handshake of the 2025 revisions; keeps the session id."""
        params = {
            "protocolVersion": self.protocol_version,
            "capabilities": self.capabilities,
            "clientInfo": _CLIENT_INFO,
        }
        response = self._post(self._message("initialize", params), session=False)
        result = self._result(response)
        self._check_result("initialize", result)
        self.session_id = response.headers.get("Mcp-Session-Id")
        self.protocol_version = result["protocolVersion"]
        self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})
        return result

    def close(self) -> None:
        """End the session (``DELETE``), if there is one."""
        if self.session_id is not None:
            self.http.delete(self.path, headers=self._headers())
            self.session_id = None

    # -- the methods -------------------------------------------------------

    def list_tools(self) -> list[Result]:
        tools = self._list("tools/list", "tools")
        self._output_schemas = {
            tool["name"]: tool.get("outputSchema") for tool in tools
        }
        return tools

    def call_tool(self, name: str, arguments: Result | None = None) -> Result:
        """The ``CallToolResult`` (``content``, ``structuredContent``, ``isError``).

        As a real client does, a result is checked against the tool's
        ``outputSchema``, listing the tools first if this one is not known.
        """
        result = self.request(
            "tools/call", {"name": name, "arguments": arguments or {}}
        )
        if self.validate:
            if name not in self._output_schemas:
                self.list_tools()
            schema = self._output_schemas.get(name)
            if schema is not None:
                check_structured(name, schema, result)
        return result

    def list_resources(self) -> list[Result]:
        return self._list("resources/list", "resources")

    def list_resource_templates(self) -> list[Result]:
        return self._list("resources/templates/list", "resourceTemplates")

    def read_resource(self, uri: str) -> Result:
        return self.request("resources/read", {"uri": uri})

    def list_prompts(self) -> list[Result]:
        return self._list("prompts/list", "prompts")

    def get_prompt(
        self, name: str, arguments: t.Mapping[str, str] | None = None
    ) -> Result:
        return self.request(
            "prompts/get", {"name": name, "arguments": dict(arguments or {})}
        )

    def complete(
        self,
        ref: Result,
        argument: str,
        value: str = "",
        context: t.Mapping[str, str] | None = None,
    ) -> Result:
        """``completion/complete``; ``ref`` is ``{"type": "ref/prompt", "name": ...}``
        or ``{"type": "ref/resource", "uri": ...}``."""
        params: Result = {"ref": ref, "argument": {"name": argument, "value": value}}
        if context:
            params["context"] = {"arguments": dict(context)}
        return t.cast(Result, self.request("completion/complete", params)["completion"])

    def request(self, method: str, params: Result | None = None) -> Result:
        """Any request; its result, after answering the server's questions.

        :raises MCPError: for an error answer.
        """
        params = dict(params or {})
        for _ in range(_MAX_ROUNDS):
            result = self._result(self._post(self._message(method, params)))
            self._check_result(method, result)
            if result.get("resultType") != "input_required":
                return result
            params["inputResponses"] = {
                key: self._answer(question)
                for key, question in (result.get("inputRequests") or {}).items()
            }
            if "requestState" in result:
                params["requestState"] = result["requestState"]
            else:
                params.pop("requestState", None)
        raise AssertionError(
            f"{method} still asked questions after {_MAX_ROUNDS} rounds"
        )

    def _check_result(self, method: str, result: Result) -> None:
        if self.schema_checks:
            WireChecker(self.protocol_version).result(method, result)

    def _list(self, method: str, key: str) -> list[Result]:
        items: list[Result] = []
        cursor = None
        while True:
            result = self.request(method, {"cursor": cursor} if cursor else {})
            items.extend(result[key])
            cursor = result.get("nextCursor")
            if not cursor:
                return items

    # -- the wire ----------------------------------------------------------

    def _message(self, method: str, params: Result) -> Result:
        if self.modern:
            meta = dict(params.get("_meta") or {})
            meta.update(
                {
                    META_VERSION: self.protocol_version,
                    META_CAPABILITIES: self.capabilities,
                    META_CLIENT_INFO: _CLIENT_INFO,
                }
            )
            params = {**params, "_meta": meta}
        return {
            "jsonrpc": "2.0",
            "id": next(self._ids),
            "method": method,
            "params": params,
        }

    def _headers(
        self, message: Result | None = None, *, session: bool = True
    ) -> dict[str, str]:
        headers = {"Accept": _ACCEPT, **self.headers}
        if self.modern:
            headers["MCP-Protocol-Version"] = self.protocol_version
            if message is not None and "method" in message:
                headers["Mcp-Method"] = message["method"]
                field = NAMED_METHODS.get(message["method"])
                if field is not None:
                    headers["Mcp-Name"] = _header_value(
                        message["params"].get(field, "")
                    )
        elif session and self.session_id is not None:
            headers["Mcp-Session-Id"] = self.session_id
            headers["MCP-Protocol-Version"] = self.protocol_version
        return headers

    def _post(self, message: Result, *, session: bool = True) -> TestResponse:
        return self.http.post(
            self.path,
            data=json.dumps(message),
            content_type="application/json",
            headers=self._headers(message, session=session),
            buffered=False,
        )

    def _result(self, response: TestResponse) -> Result:
        """The final result of a POST, answering live questions on a stream."""
        if response.mimetype == "text/event-stream":
            message = self._follow(response)
        else:
            message = json.loads(response.get_data() or b"{}")
        error = message.get("error")
        if error is not None or response.status_code >= 400:
            error = error or {"code": -32000, "message": response.status}
            raise MCPError(
                error["code"], error["message"], error.get("data"), response.status_code
            )
        return t.cast(Result, message["result"])

    def _follow(self, response: TestResponse) -> Result:
        try:
            for message in _events(response.iter_encoded()):
                if "method" not in message:
                    return message
                checker = (
                    WireChecker(self.protocol_version) if self.schema_checks else None
                )
                if "id" in message:  # a live question (2025 revisions)
                    if checker is not None:
                        checker.question(message)
                    self._reply(message)
                else:
                    if checker is not None:
                        checker.notification(message)
                    self.notifications.append(message)
        finally:
            response.close()
        raise AssertionError("the stream ended without a response")

    def _reply(self, question: Result) -> None:
        try:
            reply: Result = {"result": self._answer(question)}
        except MCPError as exc:
            reply = {"error": {"code": exc.code, "message": exc.message}}
        self._post({"jsonrpc": "2.0", "id": question["id"], **reply})

    def _answer(self, question: Result) -> Result:
        method = question.get("method", "")
        answer = self._answers.get(method)
        if answer is None:
            raise MCPError(-32601, f"this test client has no answer for {method}")
        return answer(question.get("params") or {})


def _events(chunks: t.Iterable[bytes]) -> t.Iterator[Result]:
    """The JSON messages of an SSE body, as the chunks arrive."""
    buffer = b""
    for chunk in chunks:
        buffer += chunk
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            data = [
                line[5:].strip()
                for line in event.split(b"\n")
                if line.startswith(b"data:")
            ]
            payload = b"\n".join(data)
            if payload:
                yield json.loads(payload)


def _header_value(value: str) -> str:
    """A value as the spec's header encoding sends it (base64 when not plain ASCII)."""
    if value.isascii() and value.isprintable() and value == value.strip():
        if not (value.startswith("=?base64?") and value.endswith("?=")):
            return value
    return "=?base64?" + base64.b64encode(value.encode()).decode() + "?="
