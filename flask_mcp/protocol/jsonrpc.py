"""JSON-RPC 2.0 messages as MCP uses them (MCP spec, "Base Protocol").

Pure data handling: no I/O and no Flask, so every transport shares it.
"""

from __future__ import annotations

import json
import re
import typing as t
from dataclasses import dataclass

from ..errors import FlaskMCPError

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
#: MCP's "resource not found" (2025-03-26 to 2025-11-25; modern: -32602).
RESOURCE_NOT_FOUND = -32002
#: MCP 2026-07-28: HTTP headers disagree with the body, or are missing.
HEADER_MISMATCH = -32020
#: MCP 2026-07-28: the request needs a capability the client did not declare.
MISSING_CLIENT_CAPABILITY = -32021
#: MCP 2026-07-28: the requested protocol version is not served here.
UNSUPPORTED_PROTOCOL_VERSION = -32022
#: Server-defined: a limit refused the request (HTTP 429 with ``Retry-After``;
#: ``data.retryAfter`` gives the seconds too, for clients that only read the
#: body).
RATE_LIMITED = -32029

#: HTTP status of a modern error answer, by code (both reference SDKs agree).
_HTTP_STATUS = {
    PARSE_ERROR: 400,
    INVALID_REQUEST: 400,
    INVALID_PARAMS: 400,
    HEADER_MISMATCH: 400,
    MISSING_CLIENT_CAPABILITY: 400,
    UNSUPPORTED_PROTOCOL_VERSION: 400,
    METHOD_NOT_FOUND: 404,
    RATE_LIMITED: 429,
}
#: Deepest nesting of arrays and objects a message may have. MCP messages
#: need a few dozen levels; Python's parser recurses once per level.
MAX_DEPTH = 200

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")


def http_status(code: int) -> int:
    """The HTTP status a modern request's error is answered with."""
    return _HTTP_STATUS.get(code, 200)


RequestId = str | int


class JsonRpcError(FlaskMCPError):
    """An error that becomes a JSON-RPC error object."""

    def __init__(self, code: int, message: str, data: t.Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def to_dict(self) -> dict[str, t.Any]:
        error: dict[str, t.Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


@dataclass(frozen=True)
class Request:
    id: RequestId
    method: str
    params: dict[str, t.Any]


@dataclass(frozen=True)
class Notification:
    method: str
    params: dict[str, t.Any]


@dataclass(frozen=True)
class Response:
    """A client's answer to a request the server sent (sampling, elicitation)."""

    id: RequestId
    payload: dict[str, t.Any]


Message = Request | Notification | Response


def decode(body: bytes) -> t.Any:
    """Parse a body; anything that is not JSON, or nests deeper than
    :data:`MAX_DEPTH`, is a parse error.

    The depth is measured before parsing, so a small body of ten thousand
    brackets cannot exhaust the parser's (or a later walker's) recursion.
    """
    if _too_deep(body):
        raise JsonRpcError(
            PARSE_ERROR, f"Parse error: JSON nested deeper than {MAX_DEPTH} levels"
        )
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise JsonRpcError(PARSE_ERROR, "Parse error: body is not valid JSON") from exc


def _too_deep(body: bytes) -> bool:
    """Whether brackets outside strings nest deeper than :data:`MAX_DEPTH`."""
    if len(body) <= MAX_DEPTH or body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return False  # the common cases: too short or too few brackets to nest
    # Strings and everything but brackets go at C speed; only brackets are walked.
    depth = 0
    for byte in _STRING.sub(b"", body).translate(None, _NOT_BRACKETS):
        depth += 1 if byte in b"[{" else -1
        if depth > MAX_DEPTH:
            return True
    return False


def parse_message(obj: t.Any) -> Message:
    """Classify one decoded JSON value, rejecting what JSON-RPC forbids.

    MCP forbids ``null`` ids, so a request with ``"id": null`` is invalid
    rather than a notification.
    """
    if not isinstance(obj, dict) or obj.get("jsonrpc") != "2.0":
        raise JsonRpcError(
            INVALID_REQUEST, "Invalid Request: not a JSON-RPC 2.0 message"
        )
    has_id = "id" in obj
    request_id: RequestId = obj.get("id")  # type: ignore[assignment]  # checked below
    if has_id and (
        isinstance(request_id, bool) or not isinstance(request_id, (str, int))
    ):
        raise JsonRpcError(
            INVALID_REQUEST, "Invalid Request: id must be a string or integer"
        )
    method = obj.get("method")
    if method is None:
        if has_id and ("result" in obj or "error" in obj):
            return Response(request_id, obj)
        raise JsonRpcError(INVALID_REQUEST, "Invalid Request: method is missing")
    if not isinstance(method, str):
        raise JsonRpcError(INVALID_REQUEST, "Invalid Request: method must be a string")
    params = obj.get("params", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise JsonRpcError(INVALID_REQUEST, "Invalid Request: params must be an object")
    if has_id:
        return Request(request_id, method, params)
    return Notification(method, params)


def is_response(obj: t.Any) -> bool:
    """Whether a decoded message is a response (a result or an error): what
    ends a request's stream, or a client's answer to a server request."""
    return (
        isinstance(obj, dict)
        and "method" not in obj
        and ("result" in obj or "error" in obj)
    )


def readable_id(obj: t.Any) -> RequestId | None:
    """The id of a rejected message, echoed back when it can be read."""
    if isinstance(obj, dict):
        value = obj.get("id")
        if isinstance(value, (str, int)) and not isinstance(value, bool):
            return value
    return None


def result_message(request_id: RequestId, result: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"jsonrpc": "2.0", "id": request_id, "result": result}


def error_message(
    request_id: RequestId | None, error: JsonRpcError
) -> dict[str, t.Any]:
    message: dict[str, t.Any] = {"jsonrpc": "2.0", "error": error.to_dict()}
    if request_id is not None:
        message["id"] = request_id
    return message


def request_message(
    request_id: RequestId, method: str, params: dict[str, t.Any]
) -> dict[str, t.Any]:
    return {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}


def notification_message(method: str, params: dict[str, t.Any]) -> dict[str, t.Any]:
    return {"jsonrpc": "2.0", "method": method, "params": params}
