"""The per-request path: MCP 2026-07-28 (SEP-2575, SEP-2243, SEP-2322).

No session, no GET stream, no server-to-client requests: each POST carries
its version and the client's capabilities, is validated against its routing
headers, and is answered as JSON or as an SSE stream of that request's own
notifications. Questions to the client travel as ``input_required`` results
(see :mod:`flask_mcp.protocol.inputs`). ``subscriptions/listen`` is answered
with a stream of change notifications held for ``MCP_LISTEN_HOLD`` seconds.
"""

from __future__ import annotations

import functools
import typing as t

from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from ..protocol import jsonrpc
from ..protocol.call import Call
from ..protocol.context import LOG_LEVELS
from ..protocol.envelope import META_SUBSCRIPTION
from ..protocol.envelope import check_param_headers
from ..protocol.envelope import read_envelope
from ..protocol.jsonrpc import INVALID_PARAMS
from ..protocol.jsonrpc import METHOD_NOT_FOUND
from ..protocol.jsonrpc import JsonRpcError
from ..protocol.jsonrpc import Notification
from ..protocol.jsonrpc import Request as RpcRequest
from ..protocol.server import LISTEN
from ..protocol.tasking.wire import NOTIFICATION as TASK_NOTIFICATION
from . import streaming
from .bus import LIST_CHANGED
from .bus import Change
from .checks import header
from .events import format_event
from .events import is_response
from .responses import HTTPError
from .responses import empty_response
from .responses import json_response
from .responses import sse_response

if t.TYPE_CHECKING:
    from .endpoint import Endpoint

#: Filter keys of ``subscriptions/listen`` for the list-changed notifications.
_LIST_FILTERS = {
    "toolsListChanged": LIST_CHANGED["tools"],
    "promptsListChanged": LIST_CHANGED["prompts"],
    "resourcesListChanged": LIST_CHANGED["resources"],
}


class ModernPath:
    """POST of the 2026-07-28 revision, for one endpoint."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self.server = endpoint.server
        self.settings = endpoint.settings

    def post(self, request: Request, payload: dict[str, t.Any]) -> Response:
        request_id = jsonrpc.readable_id(payload)
        try:
            message = jsonrpc.parse_message(payload)
        except JsonRpcError as exc:
            raise HTTPError.of(exc, 400, request_id) from None
        if isinstance(message, Notification):
            # No client notification exists over HTTP in this revision: a
            # notification is accepted and dropped, as the spec asks.
            return empty_response(202)
        assert isinstance(message, RpcRequest)  # a response carries no _meta
        auth = self.endpoint.authenticate(request, message.id)
        try:
            envelope = read_envelope(
                message.method,
                message.params,
                functools.partial(header, request.environ),
                LOG_LEVELS,
            )
            if not self.server.knows(message.method, modern=True):
                raise JsonRpcError(
                    METHOD_NOT_FOUND, f"Method not found: {message.method}"
                )
            self._check_param_headers(request, message, auth)
        except JsonRpcError as exc:
            raise HTTPError.of(exc, jsonrpc.http_status(exc.code), message.id) from None
        self.endpoint.check_step_up(request, message, auth)
        call = Call(
            protocol_version=envelope.version,
            channel=streaming.NullChannel(),
            auth=auth,
            principal=self.endpoint.principal(auth),
            envelope=envelope,
        )
        if message.method == LISTEN:
            return self._listen(
                message, call, streaming.disconnect_probe(request.environ)
            )
        if not self.server.wants_channel(message):
            return self._answer(self.endpoint.run(request, message, call))
        channel = streaming.StreamChannel(self.endpoint.store, None, None, message.id)
        call.channel = channel
        streaming.start(lambda: self.endpoint.run(request, message, call), channel)
        first = streaming.first(channel)
        if isinstance(first, streaming.Refused):
            raise first.error
        if first is not streaming.CLOSE and is_response(first[1]):
            return self._answer(first[1])
        body = streaming.sse_body(
            channel,
            first,
            priming=False,
            retry_ms=self.settings.retry_ms,
            cancelled=call.cancelled,
            keepalive=streaming.KEEPALIVE,
            gone=streaming.disconnect_probe(request.environ),
        )
        return sse_response(body)

    def _answer(self, message: dict[str, t.Any]) -> Response:
        """A final response as JSON, with the status its error code implies."""
        error = message.get("error")
        status = jsonrpc.http_status(error["code"]) if isinstance(error, dict) else 200
        return json_response(message, status)

    def _check_param_headers(
        self, request: Request, message: RpcRequest, auth: t.Any
    ) -> None:
        """``Mcp-Param-*`` headers must mirror a tool's ``x-mcp-header`` arguments."""
        if message.method != "tools/call":
            return
        name = message.params.get("name")
        tool = self.server.registry.tools.get(name) if isinstance(name, str) else None
        if tool is None or not tool.header_params or not tool.allows(auth):
            return
        check_param_headers(
            tool.header_params,
            message.params.get("arguments"),
            request.headers.get,
        )

    # -- subscriptions/listen ----------------------------------------------

    def _listen(
        self, message: RpcRequest, call: Call, gone: t.Callable[[], bool]
    ) -> Response:
        """Acknowledge, then stream the changes the filter asks for.

        A sync worker is held while the stream is open, so it is closed
        gracefully (with the listen result) after ``MCP_LISTEN_HOLD``
        seconds; the client then listens again. A client that closes the
        stream first frees the worker at once (``gone``).
        """
        wanted, honoured = self._filter(
            message.params.get("notifications"), call, message.id
        )
        subscription = message.id
        meta = {META_SUBSCRIPTION: subscription}
        bus = self.endpoint.bus
        start = bus.position()

        def stream() -> t.Iterator[bytes]:
            ack = {"_meta": meta, "notifications": honoured}
            yield format_event(
                jsonrpc.notification_message(
                    "notifications/subscriptions/acknowledged", ack
                )
            )
            for _, change in bus.follow(
                start, self.settings.listen_hold, wanted, stop=gone
            ):
                if change is None:
                    yield b": keep-alive\n\n"
                    continue
                params = {**change.params, "_meta": meta}
                yield format_event(jsonrpc.notification_message(change.method, params))
            if gone():
                return
            done = {"resultType": "complete", "_meta": meta}
            yield format_event(jsonrpc.result_message(subscription, done))

        return sse_response(stream(), "listen")

    def _filter(
        self, requested: t.Any, call: Call, request_id: t.Any
    ) -> tuple[t.Callable[[Change], bool], dict[str, t.Any]]:
        if requested is None:
            requested = {}
        if not isinstance(requested, dict):
            raise HTTPError(
                400,
                INVALID_PARAMS,
                "Invalid params: notifications must be an object",
                request_id,
            )
        methods = {
            method
            for key, method in _LIST_FILTERS.items()
            if requested.get(key) is True
        }
        honoured: dict[str, t.Any] = {
            key: True for key in _LIST_FILTERS if requested.get(key) is True
        }
        uris = requested.get("resourceSubscriptions")
        visible: set[str] = set()
        if uris is not None:
            if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
                raise HTTPError(
                    400,
                    INVALID_PARAMS,
                    "Invalid params: resourceSubscriptions must be a list of URIs",
                    request_id,
                )
            # Only resources the caller may read; others are left out of the ack.
            visible = {u for u in uris if self.server.methods.resource_visible(u, call)}
            honoured["resourceSubscriptions"] = [u for u in uris if u in visible]
        tasks = self._task_filter(requested.get("taskIds"), call, request_id)
        if tasks is not None:
            honoured["taskIds"] = tasks

        def wanted(change: Change) -> bool:
            if change.session is not None:
                return False  # meant for one legacy session
            if change.principal is not None and change.principal != call.principal:
                return False
            if change.uri is not None:
                return change.uri in visible
            if change.method == TASK_NOTIFICATION:
                return tasks is not None and change.params.get("taskId") in tasks
            return change.method in methods

        return wanted, honoured

    def _task_filter(
        self, requested: t.Any, call: Call, request_id: t.Any
    ) -> list[str] | None:
        """The ``taskIds`` of the tasks extension: the caller's own tasks."""
        if requested is None or self.server.tasks is None:
            return None
        try:
            return self.server.tasks.watchable(requested, call)
        except JsonRpcError as exc:
            raise HTTPError.of(exc, jsonrpc.http_status(exc.code), request_id) from None
