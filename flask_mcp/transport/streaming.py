"""Run one request whose handler may talk to the client while it works.

The handler runs in a thread; what it sends goes into a queue (for the open
HTTP response) and, on a legacy session, into the event log (for a client
that reconnects). The view waits for the first message: a final result alone
is answered as JSON, anything else turns the response into an SSE stream.

Faults end the stream, never the worker: a handler that dies still yields a
final JSON-RPC error; a store that fails before anything was sent answers
503, and mid-stream ends the response with an error at once; a client that
closes the stream sets the call's cancelled event, which the handler's next
call on its context raises; and a lease the running worker renews in the
store (:mod:`.leases`) lets a client resuming on another worker learn that
the worker died.
"""

from __future__ import annotations

import contextvars
import logging
import queue
import secrets
import select
import socket
import threading
import time
import typing as t
from dataclasses import dataclass

from werkzeug.wrappers import Response

from .._sync import close_thread_loop
from ..protocol.context import ClientError
from ..protocol.context import ClientTimeout
from ..protocol.jsonrpc import INTERNAL_ERROR
from ..protocol.jsonrpc import JsonRpcError
from ..protocol.jsonrpc import RequestId
from ..protocol.jsonrpc import error_message
from ..protocol.jsonrpc import is_response
from ..protocol.jsonrpc import notification_message
from ..protocol.jsonrpc import request_message
from ..store import Store
from .capacity import WORKER
from .capacity import Capacity
from .capacity import backoff
from .events import EventLog
from .events import format_event
from .leases import Lease
from .responses import HTTPError
from .responses import sse_response
from .responses import unavailable

log = logging.getLogger(__name__)

#: Queue marker: the handler asked to end the HTTP response early.
CLOSE = object()
#: Queue marker: the worker wants the thread back (the client resumes).
YIELD = object()
#: Seconds between looks for the reply to a question the server asked.
REPLY_POLL = 0.05
#: Seconds between looks at the client's socket while a stream is quiet.
DISCONNECT_POLL = 0.25

Item = t.Any  # (event_id, message), CLOSE or Refused


@dataclass(frozen=True)
class Refused:
    """Queue item: the handler refused the caller (an auth error). Before
    anything was sent it becomes the HTTP answer (401/403 and challenge);
    on an open stream, a JSON-RPC error."""

    error: HTTPError


def reply_key(session_id: str | None, request_id: str) -> str:
    return f"reply:{session_id}:{request_id}"


def asked_key(session_id: str | None, request_id: str) -> str:
    """Where a request the server sent waits for its one reply."""
    return f"asked:{session_id}:{request_id}"


class StreamChannel:
    """A :class:`~flask_mcp.protocol.context.Channel` over a queue and, for a
    legacy session, the event log."""

    def __init__(
        self,
        store: Store,
        events: EventLog | None,
        session_id: str | None,
        request_id: RequestId,
    ) -> None:
        self.store = store
        self.events = events if session_id is not None else None
        self.session_id = session_id
        self.request_id = request_id
        self.stream_id = secrets.token_urlsafe(9)
        self.queue: queue.SimpleQueue[Item] = queue.SimpleQueue()
        self._failed = False

    def emit(self, message: dict[str, t.Any]) -> None:
        """Queue ``message`` (and log it for replay on a session)."""
        if self._failed:
            return
        event_id = None
        if self.events is not None and self.session_id is not None:
            try:
                event_id = self.events.append(self.session_id, self.stream_id, message)
            except Exception as exc:  # the store is down: end the stream now
                self._fail(exc)
                return
        self.queue.put((event_id, message))

    def _fail(self, exc: Exception) -> None:
        """The store failed: before anything was sent the answer is a 503
        (with ``Retry-After``), on an open stream an error event."""
        log.warning(
            "MCP stream of request %r ended: store failed: %s", self.request_id, exc
        )
        self._failed = True
        self.queue.put(Refused(unavailable(self.request_id)))

    def notify(self, method: str, params: dict[str, t.Any]) -> None:
        self.emit(notification_message(method, params))

    def request(
        self, method: str, params: dict[str, t.Any], timeout: float
    ) -> dict[str, t.Any]:
        if self.session_id is None:
            raise JsonRpcError(INTERNAL_ERROR, f"{method} needs an MCP session")
        request_id = f"srv-{secrets.token_urlsafe(12)}"
        # The one reply the client may post (see LegacyPath._accept).
        self.store.set(asked_key(self.session_id, request_id), True, timeout + 5)
        self.emit(request_message(request_id, method, params))
        reply = self._reply(reply_key(self.session_id, request_id), timeout)
        if reply is None:
            raise ClientTimeout(method, timeout)
        if "error" in reply:
            raise ClientError(reply["error"])
        return t.cast(dict[str, t.Any], reply.get("result", {}))

    def _reply(self, key: str, timeout: float) -> t.Any:
        """The client's reply, or ``None`` after ``timeout`` seconds.

        :raises JsonRpcError: the worker is stopping: nobody would be left to
            finish the call, so it ends now (the client sends it again).
        """
        deadline = time.monotonic() + timeout
        while True:
            reply = self.store.take(key)
            if reply is not None or time.monotonic() >= deadline:
                return reply
            if WORKER.stopping:
                raise JsonRpcError(
                    INTERNAL_ERROR,
                    "The server is restarting and cannot wait for the answer;"
                    " send the request again",
                )
            time.sleep(min(REPLY_POLL, max(0.0, deadline - time.monotonic())))

    def close_stream(self) -> None:
        self.queue.put(CLOSE)

    def yield_thread(self) -> None:
        self.queue.put(YIELD)

    def stop(self) -> None:
        self.queue.put(YIELD)


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


def start(
    run: t.Callable[[], dict[str, t.Any]],
    channel: StreamChannel,
    lease: Lease | None = None,
) -> None:
    """Run ``run`` (which returns the final response message) in a thread.

    Whatever happens in it, the channel gets a final message, so the view
    waiting on the queue never hangs.
    """

    def target() -> None:
        WORKER.handler_started()
        try:
            try:
                message = run()
            except HTTPError as refused:
                channel.queue.put(Refused(refused))
                return
            except BaseException:
                log.exception("MCP request %r failed", channel.request_id)
                message = error_message(
                    channel.request_id, JsonRpcError(INTERNAL_ERROR, "Internal error")
                )
            channel.emit(message)
        finally:
            if lease is not None:  # after the final message is in the log
                lease.stop()
            close_thread_loop()  # an async handler's loop ends with its thread
            WORKER.handler_finished()

    if lease is not None:
        lease.start()
    context = contextvars.copy_context()  # keeps Flask's app and request context
    threading.Thread(target=context.run, args=(target,), daemon=True).start()


def client_socket(environ: t.Mapping[str, t.Any]) -> socket.socket | None:
    """The client's plain TCP socket from the WSGI server (gunicorn,
    werkzeug); ``None`` without one or over TLS (no ``MSG_PEEK`` there)."""
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    return sock if type(sock) is socket.socket else None


def disconnect_probe(environ: t.Mapping[str, t.Any]) -> t.Callable[[], bool]:
    """A cheap test of whether the client closed its connection.

    A sync worker otherwise learns it only when a write fails, so a quiet
    stream whose client left (a closed ``subscriptions/listen``, a cancelled
    tool call) would hold the worker until its next keep-alive. The socket
    comes from the WSGI server (gunicorn, werkzeug); without one, or over
    TLS, the probe always says no and writes remain the only signal.
    """
    sock = client_socket(environ)
    if sock is None:
        return lambda: False

    def gone() -> bool:
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            if not readable:
                return False
            # Readable: either the peer closed (EOF) or it pipelined more bytes.
            return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
        except BlockingIOError:
            return False
        except (OSError, ValueError):  # reset, or already closed
            return True

    return gone


def answer(
    run: t.Callable[[], dict[str, t.Any]],
    channel: StreamChannel,
    *,
    as_json: t.Callable[[dict[str, t.Any]], Response],
    body: t.Callable[[Item], t.Iterator[bytes]],
    lease: Lease | None = None,
) -> Response:
    """The answer of a request whose handler may talk while it works.

    ``run`` goes to a thread; the first thing it sends decides the shape: a
    final response alone is answered by ``as_json``, a refusal (an auth
    error, the store down) is raised as its HTTP error, anything else opens
    the SSE stream ``body`` writes from that first item on.

    :raises HTTPError: the refusal, before anything was sent.
    """
    start(run, channel, lease)
    first = channel.queue.get()
    if isinstance(first, Refused):
        raise first.error
    if first is not CLOSE and is_response(first[1]):
        return as_json(first[1])
    return sse_response(body(first))


def sse_body(
    channel: StreamChannel,
    first_item: Item,
    *,
    priming: bool,
    retry_ms: int,
    cancelled: threading.Event | None = None,
    keepalive: float | None = None,
    gone: t.Callable[[], bool] | None = None,
    capacity: Capacity | None = None,
) -> t.Iterator[bytes]:
    """The SSE stream: priming event, then messages until the response or a close.

    Without priming events (before 2025-11-25) the client has no event id to
    resume from, so a request to close the stream early is ignored. With
    ``keepalive``, a comment line goes out when the handler is quiet: writing
    is how a WSGI server notices that the client went away; ``gone`` (see
    :func:`disconnect_probe`) notices it sooner. ``cancelled`` is set when
    the stream ends (modern requests: closing the stream is the
    cancellation); a legacy client may resume instead, so it passes none.

    A resumable stream is enlisted with ``capacity``: when a request needs
    its thread, or the worker stops, it ends with a retry hint and the
    client resumes it with ``GET`` and ``Last-Event-ID`` (SEP-1699), while
    the handler goes on in its own thread.
    """
    resumable = priming and channel.session_id is not None
    enlisted = resumable and capacity is not None and capacity.enlist(channel)
    wait = (
        keepalive
        if gone is None
        else min(keepalive or DISCONNECT_POLL, DISCONNECT_POLL)
    )
    try:
        if resumable:
            yield format_event(None, f"{channel.stream_id}.0", retry_ms)
        item = first_item
        quiet_since = time.monotonic()
        while True:
            if item is CLOSE:
                if resumable:
                    return
            elif item is YIELD:
                if resumable:
                    yield f"retry: {backoff(retry_ms)}\n\n".encode()
                    return
            elif isinstance(item, Refused):
                refused = item.error
                yield format_event(error_message(channel.request_id, refused.error))
                return
            elif item is not None:
                event_id, message = item
                yield format_event(message, event_id)
                if is_response(message):
                    return
                quiet_since = time.monotonic()
            try:
                item = channel.queue.get(timeout=wait)
            except queue.Empty:
                item = None
                if gone is not None and gone():
                    return
                if (
                    keepalive is not None
                    and time.monotonic() - quiet_since >= keepalive
                ):
                    quiet_since = time.monotonic()
                    yield b": keep-alive\n\n"
    finally:
        if enlisted:
            assert capacity is not None
            capacity.release(channel)
        # The response is over: finished, or the client closed it (then the
        # server's write failed and closed this generator). Either way the
        # handler has nobody to talk to any more.
        if cancelled is not None:
            cancelled.set()
