"""The shapes of the endpoint's HTTP answers: JSON-RPC bodies, SSE, nothing.

Every answer of the MCP endpoint is JSON-RPC shaped, errors included: never
an HTML page.
"""

from __future__ import annotations

import json
import math
import typing as t

from werkzeug.wrappers import Response

from ..protocol import jsonrpc
from ..protocol.jsonrpc import JsonRpcError
from ..store import StoreUnavailable

JSON = "application/json"
SSE = "text/event-stream"


class HTTPError(Exception):
    """Ends a request with a JSON-RPC error body and an HTTP status.

    :param given: a response the user's own code built (``abort(Response)``
        from ``authenticate``), answered as it is.
    """

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        request_id: t.Any = None,
        headers: dict[str, str] | None = None,
        given: Response | None = None,
        data: t.Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = JsonRpcError(code, message, data)
        self.request_id = request_id
        self.headers = headers or {}
        self.given = given

    @classmethod
    def of(
        cls, error: JsonRpcError, status: int, request_id: t.Any = None
    ) -> HTTPError:
        return cls(status, error.code, error.message, request_id, data=error.data)

    def response(self) -> Response:
        if self.given is not None:
            return self.given
        return json_response(
            jsonrpc.error_message(self.request_id, self.error),
            self.status,
            self.headers,
        )


#: Seconds a client is told to wait when the store is down.
RETRY_AFTER = 2


def unavailable(request_id: t.Any = None) -> HTTPError:
    """503: the shared store does not answer. The store has logged the
    outage once; nothing more is logged per request."""
    return HTTPError(
        503,
        jsonrpc.INTERNAL_ERROR,
        "Service unavailable: the server's shared store does not answer; try again",
        request_id,
        {"Retry-After": str(RETRY_AFTER)},
    )


def busy(retry_after: float, message: str, request_id: t.Any = None) -> HTTPError:
    """503: the server has no capacity for this request now (not a limit
    on the client: that is :func:`too_many_requests`)."""
    seconds = max(1, math.ceil(retry_after))
    return HTTPError(
        503,
        jsonrpc.INTERNAL_ERROR,
        f"Service unavailable: {message}; try again in {seconds} s",
        request_id,
        {"Retry-After": str(seconds)},
    )


def too_many_requests(
    retry_after: float, message: str, request_id: t.Any = None
) -> HTTPError:
    """429: a limit (fair share of held streams, a rate limit) refused the
    request; the client may try again after ``retry_after`` seconds."""
    seconds = max(1, math.ceil(retry_after))
    return HTTPError(
        429,
        jsonrpc.RATE_LIMITED,
        f"Too Many Requests: {message}; try again in {seconds} s",
        request_id,
        {"Retry-After": str(seconds)},
        data={"retryAfter": seconds},
    )


def json_response(
    payload: t.Any, status: int = 200, headers: t.Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(payload, separators=(",", ":"))
    # content_type, not mimetype: JSON has no charset parameter to add, and
    # werkzeug's mimetype handling is a visible share of a small tool call.
    return Response(body, status, headers, content_type=JSON)


def empty_response(status: int) -> Response:
    """An answer with no body, and so no content type."""
    response = Response(status=status)
    del response.headers["Content-Type"]
    return response


def sse_response(body: t.Iterable[bytes]) -> Response:
    """An SSE stream that ends quietly if the store fails mid-stream."""
    return stream_response(_until_the_store_fails(body))


def stream_response(body: t.Iterable[bytes]) -> Response:
    """An SSE stream, written as ``body`` yields it (unbuffered by proxies)."""
    return Response(
        body,
        mimetype=SSE,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        direct_passthrough=True,
    )


def _until_the_store_fails(body: t.Iterable[bytes]) -> t.Iterator[bytes]:
    """An open stream whose store fails just ends: the status is already
    sent, the store logged the outage, and the client reconnects (then gets
    a 503 while the outage lasts)."""
    try:
        yield from body
    except StoreUnavailable:
        return


#: What a browser-based client's preflight may ask for on the endpoint.
_ALLOW = "GET, POST, DELETE, OPTIONS"


def preflight(request: t.Any) -> Response:
    """``OPTIONS``: the methods, and for a browser's CORS preflight from an
    origin that passed the Origin check, what it may send."""
    response = empty_response(204)
    response.headers["Allow"] = _ALLOW
    origin = request.headers.get("Origin")
    if origin and request.headers.get("Access-Control-Request-Method"):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = _ALLOW
        wanted = request.headers.get("Access-Control-Request-Headers")
        if wanted:
            response.headers["Access-Control-Allow-Headers"] = wanted[:1024]
        response.headers["Access-Control-Max-Age"] = "600"
    return response


def cors(response: Response, origin: str) -> None:
    """Let a browser at ``origin`` (already allowed) read this answer."""
    response.headers["Access-Control-Allow-Origin"] = origin
    response.headers["Access-Control-Expose-Headers"] = (
        "Mcp-Session-Id, MCP-Protocol-Version, WWW-Authenticate, Retry-After"
    )
    response.vary.add("Origin")
