"""Run one request whose handler may talk to the client while it works.

The handler runs in a thread; what it sends goes into a queue (for the open
HTTP response) and into the event log (for a client that reconnects). The
view waits for the first message: a final result alone is answered as JSON,
anything else turns the response into an SSE stream.
"""

from __future__ import annotations

import contextvars
import queue
import secrets
import threading
import typing as t

from ..protocol.context import ClientError
from ..protocol.jsonrpc import INTERNAL_ERROR
from ..protocol.jsonrpc import JsonRpcError
from ..protocol.jsonrpc import notification_message
from ..protocol.jsonrpc import request_message
from ..store import Store
from .events import EventLog
from .events import format_event
from .events import is_response

#: Queue marker: the handler asked to end the HTTP response early.
CLOSE = object()


def reply_key(session_id: str | None, request_id: str) -> str:
    return f"reply:{session_id}:{request_id}"


class StreamChannel:
    """A :class:`~flask_mcp.protocol.context.Channel` over a queue and the event log."""

    def __init__(
        self,
        store: Store,
        events: EventLog | None,
        session_id: str | None,
    ) -> None:
        self.store = store
        self.events = events
        self.session_id = session_id
        self.stream_id = secrets.token_urlsafe(9)
        self.queue: queue.SimpleQueue[t.Any] = queue.SimpleQueue()

    def emit(self, message: dict[str, t.Any]) -> None:
        event_id = None
        if self.events is not None and self.session_id is not None:
            event_id = self.events.append(self.session_id, self.stream_id, message)
        self.queue.put((event_id, message))

    def notify(self, method: str, params: dict[str, t.Any]) -> None:
        self.emit(notification_message(method, params))

    def request(
        self, method: str, params: dict[str, t.Any], timeout: float
    ) -> dict[str, t.Any]:
        if self.session_id is None:
            raise JsonRpcError(INTERNAL_ERROR, f"{method} needs an MCP session")
        request_id = f"srv-{secrets.token_urlsafe(12)}"
        self.emit(request_message(request_id, method, params))
        reply = self.store.wait_take(reply_key(self.session_id, request_id), timeout)
        if reply is None:
            raise JsonRpcError(
                INTERNAL_ERROR, f"the client did not answer {method} in time"
            )
        if "error" in reply:
            raise ClientError(reply["error"])
        return t.cast(dict[str, t.Any], reply.get("result", {}))

    def close_stream(self) -> None:
        self.queue.put(CLOSE)


class NullChannel:
    """For handlers answered as plain JSON: nothing can be sent before the result."""

    def notify(self, method: str, params: dict[str, t.Any]) -> None:
        pass

    def request(
        self, method: str, params: dict[str, t.Any], timeout: float
    ) -> dict[str, t.Any]:
        raise JsonRpcError(INTERNAL_ERROR, f"{method} is not possible on this request")

    def close_stream(self) -> None:
        pass


def start(run: t.Callable[[], dict[str, t.Any]], channel: StreamChannel) -> None:
    """Run ``run`` (which returns the final response message) in a thread."""

    def target() -> None:
        channel.emit(run())

    context = contextvars.copy_context()  # keeps Flask's app and request context
    threading.Thread(target=context.run, args=(target,), daemon=True).start()


def first(channel: StreamChannel) -> t.Any:
    return channel.queue.get()


def sse_body(
    channel: StreamChannel,
    first_item: t.Any,
    priming: bool,
    retry_ms: int,
) -> t.Iterator[bytes]:
    """The SSE stream: priming event, then messages until the response or a close.

    Without priming events (before 2025-11-25) the client has no event id to
    resume from, so a request to close the stream early is ignored.
    """
    resumable = priming and channel.session_id is not None
    if resumable:
        yield format_event(None, f"{channel.stream_id}.0", retry_ms)
    item = first_item
    while True:
        if item is CLOSE:
            if resumable:
                return
        else:
            event_id, message = item
            yield format_event(message, event_id)
            if is_response(message):
                return
        item = channel.queue.get()
