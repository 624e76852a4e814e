"""Run one request whose handler may talk to the client while it works.

The handler runs in a thread; what it sends goes into a queue (for the open
HTTP response) and, on a legacy session, into the event log (for a client
that reconnects). The view waits for the first message: a final result alone
is answered as JSON, anything else turns the response into an SSE stream.

Faults end the stream, never the worker: a handler that dies still yields a
final JSON-RPC error; a store that fails mid-stream ends the response with
an error at once; a client that closes the stream sets the call's cancelled
event, which the handler's next call on its context raises; and a lease the
running worker renews in the store lets a client resuming on another worker
learn that the worker died.
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

from .._sync import close_thread_loop
from ..protocol.context import ClientError
from ..protocol.context import ClientTimeout
from ..protocol.jsonrpc import INTERNAL_ERROR
from ..protocol.jsonrpc import JsonRpcError
from ..protocol.jsonrpc import RequestId
from ..protocol.jsonrpc import error_message
from ..protocol.jsonrpc import notification_message
from ..protocol.jsonrpc import request_message
from ..store import Store
from .events import EventLog
from .events import format_event
from .events import is_response
from .responses import HTTPError

log = logging.getLogger(__name__)

#: Queue marker: the handler asked to end the HTTP response early.
CLOSE = object()
#: Seconds between keep-alive comments on a quiet modern stream.
KEEPALIVE = 5.0
#: Seconds between renewals of a running request's lease.
LEASE_INTERVAL = 2.0
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


def lease_key(session_id: str, stream: str) -> str:
    return f"lease:{session_id}:{stream}"


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
        log.warning(
            "MCP stream of request %r ended: store failed: %s", self.request_id, exc
        )
        self._failed = True
        error = JsonRpcError(
            INTERNAL_ERROR, "Service unavailable: the server's store failed"
        )
        self.queue.put((None, error_message(self.request_id, error)))

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
            raise ClientTimeout(method, timeout)
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


class Lease:
    """Proof in the store that a worker still runs a request of a session.

    Renewed by a thread every :data:`LEASE_INTERVAL` seconds while the
    handler runs; it lapses a few intervals after the worker dies.
    """

    #: Seconds a lease record is kept after its last renewal.
    ttl = 300.0

    def __init__(
        self, store: Store, session_id: str, stream: str, request_id: RequestId
    ):
        self._store = store
        self._key = lease_key(session_id, stream)
        self._request_id = request_id
        self._done = threading.Event()

    def start(self) -> None:
        self._renew()
        threading.Thread(target=self._run, daemon=True).start()

    def stop(self) -> None:
        self._done.set()

    def _run(self) -> None:
        while not self._done.wait(LEASE_INTERVAL):
            self._renew()

    def _renew(self) -> None:
        # The record outlives the lease (``ttl``), so a resuming client can
        # still learn which request was orphaned and get an answer for it.
        record = {"id": self._request_id, "at": time.time()}
        try:
            self._store.set(self._key, record, self.ttl)
        except Exception as exc:  # the stream reports store failures itself
            log.debug("lease renewal failed: %s", exc)

    @staticmethod
    def holder(record: t.Any) -> RequestId | None:
        """The request id of a lease whose worker stopped renewing it."""
        if not isinstance(record, dict) or not isinstance(record.get("at"), float):
            return None
        if time.time() - record["at"] < LEASE_INTERVAL * 3:
            return None
        request_id = record.get("id")
        return request_id if isinstance(request_id, (str, int)) else None

    @staticmethod
    def live(record: t.Any) -> bool:
        return (
            isinstance(record, dict)
            and isinstance(record.get("at"), float)
            and time.time() - record["at"] < LEASE_INTERVAL * 3
        )


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

    if lease is not None:
        lease.start()
    context = contextvars.copy_context()  # keeps Flask's app and request context
    threading.Thread(target=context.run, args=(target,), daemon=True).start()


def disconnect_probe(environ: t.Mapping[str, t.Any]) -> t.Callable[[], bool]:
    """A cheap test of whether the client closed its connection.

    A sync worker otherwise learns it only when a write fails, so a quiet
    stream whose client left (a closed ``subscriptions/listen``, a cancelled
    tool call) would hold the worker until its next keep-alive. The socket
    comes from the WSGI server (gunicorn, werkzeug); without one, or over
    TLS, the probe always says no and writes remain the only signal.
    """
    sock = environ.get("gunicorn.socket") or environ.get("werkzeug.socket")
    if type(sock) is not socket.socket:  # absent, or TLS (no MSG_PEEK there)
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


def first(channel: StreamChannel) -> Item:
    return channel.queue.get()


def sse_body(
    channel: StreamChannel,
    first_item: Item,
    *,
    priming: bool,
    retry_ms: int,
    cancelled: threading.Event | None = None,
    keepalive: float | None = None,
    gone: t.Callable[[], bool] | None = None,
) -> t.Iterator[bytes]:
    """The SSE stream: priming event, then messages until the response or a close.

    Without priming events (before 2025-11-25) the client has no event id to
    resume from, so a request to close the stream early is ignored. With
    ``keepalive``, a comment line goes out when the handler is quiet: writing
    is how a WSGI server notices that the client went away; ``gone`` (see
    :func:`disconnect_probe`) notices it sooner. ``cancelled`` is set when
    the stream ends (modern requests: closing the stream is the
    cancellation); a legacy client may resume instead, so it passes none.
    """
    resumable = priming and channel.session_id is not None
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
        # The response is over: finished, or the client closed it (then the
        # server's write failed and closed this generator). Either way the
        # handler has nobody to talk to any more.
        if cancelled is not None:
            cancelled.set()
