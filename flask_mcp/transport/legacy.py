"""The session-based path: MCP 2025-03-26, 2025-06-18 and 2025-11-25.

``initialize`` opens a session kept in the shared store; later requests name
it in ``Mcp-Session-Id`` and may land on any worker. A GET opens the
session's stream of server-initiated messages (change notifications from the
:class:`~.bus.NotificationBus`); ``Last-Event-ID`` resumes any stream on any
worker; DELETE ends the session.
"""

from __future__ import annotations

import logging
import re
import threading
import time
import typing as t

from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from ..addresses import client_key
from ..auth.errors import AuthError
from ..config import Settings
from ..protocol import jsonrpc
from ..protocol.call import Call
from ..protocol.jsonrpc import INVALID_REQUEST
from ..protocol.jsonrpc import JsonRpcError
from ..protocol.jsonrpc import Notification
from ..protocol.jsonrpc import Request as RpcRequest
from ..protocol.jsonrpc import Response as RpcResponse
from ..protocol.jsonrpc import is_response
from ..protocol.versions import DEFAULT_HEADER_VERSION
from ..protocol.versions import LEGACY_VERSIONS
from ..protocol.versions import allows_batching
from ..protocol.versions import supports_priming_events
from . import leases
from . import operations
from . import streaming
from .bus import NotificationBus
from .capacity import Capacity
from .capacity import backoff
from .checks import accepts
from .checks import header
from .descriptions import session_stream
from .events import STANDALONE
from .events import EventLog
from .events import format_event
from .events import parse_event_id
from .exchange import AUTH_ERROR
from .exchange import Exchange
from .holds import Holder
from .responses import SSE
from .responses import HTTPError
from .responses import empty_response
from .responses import json_response
from .responses import sse_response
from .sessions import Session
from .sessions import SessionManager

log = logging.getLogger(__name__)

SESSION_HEADER = "Mcp-Session-Id"
VERSION_HEADER = "MCP-Protocol-Version"
#: Not in JSON-RPC; the code the MCP SDKs use for "session not found".
SESSION_NOT_FOUND = -32001
#: What a session id this server minted looks like.
_SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class LegacyPath:
    """POST, GET and DELETE of the 2025 revisions.

    :param exchange: authenticates callers and runs their requests.
    :param sessions: where sessions live (and, through its store, replies
        and leases).
    :param events: the per-stream event logs that make streams resumable.
    :param bus: the change notifications that GET streams deliver.
    :param holder: what holds GET streams open (the worker's, or a stream
        gateway's).
    :param capacity: the worker's threads, which a request's own stream
        (a tool waiting for an answer) yields when a request needs one.
    """

    def __init__(
        self,
        exchange: Exchange,
        settings: Settings,
        sessions: SessionManager,
        events: EventLog,
        bus: NotificationBus,
        holder: Holder,
        capacity: Capacity,
    ) -> None:
        self.exchange = exchange
        self.server = exchange.server
        self.settings = settings
        self.sessions = sessions
        self.store = sessions.store
        self.events = events
        self.bus = bus
        self.holder = holder
        self.capacity = capacity

    # -- POST --------------------------------------------------------------

    def post(self, request: Request, payload: t.Any) -> Response:
        single = payload if isinstance(payload, dict) else None
        request_id = jsonrpc.readable_id(single)
        auth = self.exchange.authenticate(request, request_id)
        message = self._parse(payload) if not isinstance(payload, list) else None
        if isinstance(message, RpcRequest) and not self.server.knows(message.method):
            # Probes of methods this era lacks get "unknown method" before any
            # session or version check, so clients fall back to ``initialize``.
            error = JsonRpcError(
                jsonrpc.METHOD_NOT_FOUND, f"Method not found: {message.method}"
            )
            return json_response(jsonrpc.error_message(message.id, error))
        header_version = self._header_version(request, request_id)
        if isinstance(message, RpcRequest) and message.method == "initialize":
            return self._initialize(request, message, auth)
        session = self._session(request, auth, request_id)
        version = session.protocol_version if session else header_version

        if message is None:
            if not allows_batching(version) or not payload:
                raise HTTPError(
                    400,
                    INVALID_REQUEST,
                    "Invalid Request: batches are not allowed in this protocol version",
                )
            return self._batch(request, payload, session, version, auth)
        if not isinstance(message, RpcRequest):
            self._accept(message, session)
            return empty_response(202)
        return self._answer(request, message, session, version, auth)

    def _parse(self, payload: t.Any) -> jsonrpc.Message:
        try:
            return jsonrpc.parse_message(payload)
        except JsonRpcError as exc:
            raise HTTPError(
                400, exc.code, exc.message, jsonrpc.readable_id(payload)
            ) from None

    def _header_version(self, request: Request, request_id: t.Any = None) -> str:
        version = header(request.environ, VERSION_HEADER)
        if version is None:
            return DEFAULT_HEADER_VERSION
        if version not in LEGACY_VERSIONS:
            raise HTTPError(
                400,
                INVALID_REQUEST,
                f"Bad Request: unsupported MCP-Protocol-Version {version[:64]!r}",
                request_id,
            )
        return version

    def _session(
        self, request: Request, auth: t.Any, request_id: t.Any = None
    ) -> Session | None:
        if self.settings.stateless:
            return None
        session_id = header(request.environ, SESSION_HEADER)
        if not session_id:
            raise HTTPError(
                400,
                INVALID_REQUEST,
                "Bad Request: Mcp-Session-Id header is required",
                request_id,
            )
        session = (
            self.sessions.load(session_id) if _SESSION_ID.match(session_id) else None
        )
        if session is None or session.principal != self.exchange.principal(auth):
            # Another principal's session answers exactly like an unknown one.
            raise HTTPError(404, SESSION_NOT_FOUND, "Session not found", request_id)
        return session

    def _initialize(
        self, request: Request, message: RpcRequest, auth: t.Any
    ) -> Response:
        version, result = self.server.initialize(message.params)
        call = self._call(None, version, streaming.NullChannel(), auth)
        operation = operations.started(request, message, call, self.server.registry)
        headers = {}
        try:
            if not self.settings.stateless:
                session = self.sessions.create(
                    version, message.params, self.exchange.principal(auth)
                )
                self.store.sweep(every=self.sessions.ttl)
                headers[SESSION_HEADER] = session.id
        except BaseException as exc:
            operations.raised(operation, exc)
            raise
        answer = jsonrpc.result_message(message.id, result)
        operations.answered(operation, answer)
        return json_response(answer, headers=headers)

    def _accept(self, message: jsonrpc.Message, session: Session | None) -> None:
        """Notifications need no answer; a response wakes the handler waiting
        for it.

        :raises HTTPError: 400 for a response to a request this session was
            never sent, or was already answered.
        """
        if isinstance(message, Notification):
            log.debug("notification %s", message.method)
            return
        assert isinstance(message, RpcResponse)
        session_id = session.id if session else None
        asked = isinstance(message.id, str) and self.store.take(
            streaming.asked_key(session_id, message.id)
        )
        if not asked:
            raise HTTPError(
                400,
                INVALID_REQUEST,
                "Bad Request: no request of the server awaits this response"
                " (never sent, already answered or expired)",
                message.id,
            )
        key = streaming.reply_key(session_id, str(message.id))
        self.store.set(key, message.payload, self.settings.request_timeout + 5)

    def _batch(
        self,
        request: Request,
        payload: list[t.Any],
        session: Session | None,
        version: str,
        auth: t.Any,
    ) -> Response:
        """Each message of a 2025-03-26 batch, in order, within the bounds:
        at most ``MCP_BATCH_MAX_ITEMS`` messages, and requests that would
        start after ``MCP_BATCH_TIMEOUT`` seconds are answered with an error.
        """
        limit = self.settings.batch_max_items
        if len(payload) > limit:
            raise HTTPError(
                400,
                INVALID_REQUEST,
                f"Invalid Request: a batch may hold at most {limit} messages,"
                f" not {len(payload)}",
            )
        deadline = time.monotonic() + self.settings.batch_timeout
        answers = []
        for item in payload:
            try:
                message = jsonrpc.parse_message(item)
            except JsonRpcError as exc:
                answers.append(jsonrpc.error_message(jsonrpc.readable_id(item), exc))
                continue
            if isinstance(message, RpcRequest) and time.monotonic() >= deadline:
                error = JsonRpcError(
                    jsonrpc.INTERNAL_ERROR,
                    f"Batch time limit ({self.settings.batch_timeout:g} s) reached"
                    " before this request ran; send it again",
                )
                answers.append(jsonrpc.error_message(message.id, error))
                continue
            if isinstance(message, RpcRequest):
                try:
                    self.exchange.step_up(message, auth)
                except AuthError as exc:
                    error = JsonRpcError(AUTH_ERROR, exc.description or "Forbidden")
                    answers.append(jsonrpc.error_message(message.id, error))
                    continue
                call = self._call(session, version, streaming.NullChannel(), auth)
                try:
                    answers.append(self.exchange.run(request, message, call))
                except HTTPError as refused:  # one refused item, not the batch
                    answers.append(jsonrpc.error_message(message.id, refused.error))
                continue
            try:
                self._accept(message, session)
            except HTTPError as refused:  # an unawaited reply: said, not the batch
                answers.append(jsonrpc.error_message(None, refused.error))
        return json_response(answers) if answers else empty_response(202)

    def _call(
        self, session: Session | None, version: str, channel: t.Any, auth: t.Any
    ) -> Call:
        return Call(
            protocol_version=version,
            channel=channel,
            session_id=session.id if session else None,
            session=session,
            auth=auth,
            # A loaded session's principal is the caller's (_session checks).
            principal=session.principal if session else self.exchange.principal(auth),
        )

    def _answer(
        self,
        request: Request,
        message: RpcRequest,
        session: Session | None,
        version: str,
        auth: t.Any,
    ) -> Response:
        exchange = self.exchange
        exchange.check_step_up(request, message, auth)
        if session is None or not self.server.wants_channel(message):
            call = self._call(session, version, streaming.NullChannel(), auth)
            return json_response(exchange.run(request, message, call))
        channel = streaming.StreamChannel(
            self.store, self.events, session.id, message.id
        )
        call = self._call(session, version, channel, auth)
        lease = leases.Lease(
            self.store,
            session.id,
            channel.stream_id,
            message.id,
            self.settings.lease_interval,
        )
        priming = supports_priming_events(session.protocol_version)
        return streaming.answer(
            lambda: exchange.run(request, message, call),
            channel,
            as_json=json_response,
            body=lambda first: streaming.sse_body(
                channel,
                first,
                priming=priming,
                retry_ms=self.settings.retry_ms,
                capacity=self.capacity,
            ),
            lease=lease,
        )

    # -- GET ---------------------------------------------------------------

    def _require_sessions(self) -> None:
        """GET streams and DELETE only exist where there are sessions."""
        if self.settings.stateless:
            raise HTTPError(
                405,
                INVALID_REQUEST,
                "Method Not Allowed: no sessions here",
                headers={"Allow": "POST"},
            )

    def get(self, request: Request) -> Response:
        self._require_sessions()
        if not accepts(request.headers.get("Accept", ""), SSE):
            raise HTTPError(
                406,
                INVALID_REQUEST,
                "Not Acceptable: Accept must list text/event-stream",
            )
        self._header_version(request)
        auth = self.exchange.authenticate(request)
        newest = self.bus.position()  # before the session: see session_stream
        session = self._session(request, auth)
        assert session is not None
        last_event = request.headers.get("Last-Event-ID")
        if not last_event:
            return self._notifications(request, session, None, newest)
        parsed = parse_event_id(last_event)
        if parsed is None:
            raise HTTPError(
                400, INVALID_REQUEST, "Bad Request: malformed Last-Event-ID"
            )
        stream, after = parsed
        if stream == STANDALONE:
            return self._notifications(request, session, after, newest)
        return sse_response(self._resume(session.id, stream, after), "resume")

    def _notifications(
        self, request: Request, session: Session, after: int | None, newest: int
    ) -> Response:
        """The session's stream of change notifications, held by the holder."""
        stream = session_stream(
            session,
            self.bus,
            after,
            newest=newest,
            retry_ms=self.settings.retry_ms,
            client=client_key(request.remote_addr),
        )
        return self.holder.hold(stream, request.environ)

    def _resume(self, session_id: str, stream: str, after: int) -> t.Iterator[bytes]:
        """Replay a request's stream; if its worker died, answer for it.

        The worker running a request renews a lease in the store; once the
        lease lapses without a final response, nobody will ever send one, so
        the request gets an error (logged, so every resume agrees) and the
        client stops reconnecting. Like the stream it resumes, it gives its
        thread back when a request needs it (the client resumes again).
        """
        events, store = self.events, self.store
        interval = self.settings.lease_interval
        key = leases.lease_key(session_id, stream)
        wanted = _Wanted()
        capacity = self.capacity
        enlisted = capacity.enlist(wanted)
        try:
            yield format_event(None, f"{stream}.{after}", self.settings.retry_ms)
            answered = False
            for event_id, message in events.follow(
                session_id,
                stream,
                after,
                self.settings.request_timeout,
                alive=lambda: leases.live(store.get(key), interval),
                stop=wanted.is_set,
                alive_every=interval,
            ):
                answered = is_response(message)
                yield format_event(message, event_id)
            if wanted.is_set() and not answered:
                yield f"retry: {backoff(self.settings.retry_ms)}\n\n".encode()
                return
            orphan = None if answered else leases.orphan(store.get(key), interval)
            if orphan is not None:
                log.warning(
                    "MCP request %r lost its worker; answered with an error", orphan
                )
                error = JsonRpcError(
                    jsonrpc.INTERNAL_ERROR,
                    "The server process handling this request stopped; send it again",
                )
                message = jsonrpc.error_message(orphan, error)
                yield format_event(message, events.append(session_id, stream, message))
        finally:
            if enlisted:
                capacity.release(wanted)

    # -- DELETE ------------------------------------------------------------

    def delete(self, request: Request) -> Response:
        self._require_sessions()
        session = self._session(request, self.exchange.authenticate(request))
        assert session is not None
        self.sessions.end(session)
        return empty_response(204)


class _Wanted(threading.Event):
    """Set when the worker wants a resumed stream's thread back."""

    def yield_thread(self) -> None:
        self.set()

    def stop(self) -> None:
        self.set()
