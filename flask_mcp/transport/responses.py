"""The shapes of the endpoint's HTTP answers: JSON-RPC bodies, SSE, nothing.

Every answer of the MCP endpoint is JSON-RPC shaped, errors included: never
an HTML page.
"""

from __future__ import annotations

import json
import math
import time
import typing as t

from flask import current_app
from werkzeug.wrappers import Response

from .. import signals
from ..errors import FlaskMCPError
from ..protocol import jsonrpc
from ..protocol.jsonrpc import JsonRpcError
from ..store import StoreUnavailable

JSON = "application/json"
SSE = "text/event-stream"


class HTTPError(FlaskMCPError):
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
    return _later(
        503,
        jsonrpc.INTERNAL_ERROR,
        "Service unavailable",
        message,
        retry_after,
        request_id,
    )


def too_many_requests(
    retry_after: float, message: str, request_id: t.Any = None
) -> HTTPError:
    """429: a limit (fair share of held streams, a rate limit) refused the
    request; the client may try again after ``retry_after`` seconds."""
    return _later(
        429,
        jsonrpc.RATE_LIMITED,
        "Too Many Requests",
        message,
        retry_after,
        request_id,
        with_data=True,
    )


def _later(
    status: int,
    code: int,
    reason: str,
    message: str,
    retry_after: float,
    request_id: t.Any,
    *,
    with_data: bool = False,
) -> HTTPError:
    """An error that says when to try again (``Retry-After``, whole seconds)."""
    seconds = max(1, math.ceil(retry_after))
    return HTTPError(
        status,
        code,
        f"{reason}: {message}; try again in {seconds} s",
        request_id,
        {"Retry-After": str(seconds)},
        data={"retryAfter": seconds} if with_data else None,
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


def sse_response(body: t.Iterable[bytes], kind: str = "request") -> Response:
    """An SSE stream that ends quietly if the store fails mid-stream; ``kind``
    names the stream for :data:`~flask_mcp.signals.stream_opened`."""
    return stream_response(_until_the_store_fails(body), kind)


def stream_response(body: t.Iterable[bytes], kind: str = "request") -> Response:
    """An SSE stream, written as ``body`` yields it (unbuffered by proxies)."""
    if signals.stream_opened.receivers:
        app = current_app._get_current_object()  # type: ignore[attr-defined]
        if signals.stream_opened.has_receivers_for(app):
            body = _Announced(body, kind, app)
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


class _Announced:
    """``body``, announced as a held stream from its first byte to its end.

    A class, not a generator: the server closes what it never iterated
    (a request refused before the first byte), and ``body`` must hear of it.
    """

    def __init__(self, body: t.Iterable[bytes], kind: str, app: t.Any) -> None:
        self._body = body
        self._kind = kind
        self._app = app
        self._iterator: t.Generator[bytes, None, None] | None = None

    def __iter__(self) -> t.Iterator[bytes]:
        if self._iterator is None:
            self._iterator = self._announce()
        return self._iterator

    def _announce(self) -> t.Generator[bytes, None, None]:
        stream = signals.Stream(self._kind)
        signals.stream_opened.send(self._app, stream=stream)
        try:
            yield from self._body
        finally:
            stream.duration = time.perf_counter() - stream.started
            signals.stream_closed.send(self._app, stream=stream)

    def close(self) -> None:
        if self._iterator is not None:
            self._iterator.close()
        close = getattr(self._body, "close", None)
        if close is not None:
            close()


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
