"""The Streamable HTTP endpoint: one URL, POST / GET / DELETE (MCP 2025-03-26+).

This is where transport, sessions and the protocol server meet. Every answer
is JSON-RPC shaped, errors included: never an HTML page.
"""

from __future__ import annotations

import json
import logging
import typing as t

from flask import Request
from flask import Response
from flask import g
from werkzeug.wrappers import Response as BaseResponse

from ..auth.errors import AuthError
from ..auth.errors import Forbidden
from ..config import Settings
from ..protocol import jsonrpc
from ..protocol.jsonrpc import INVALID_REQUEST
from ..protocol.jsonrpc import JsonRpcError
from ..protocol.jsonrpc import Notification
from ..protocol.jsonrpc import Request as RpcRequest
from ..protocol.jsonrpc import Response as RpcResponse
from ..protocol.server import Call
from ..protocol.server import McpServer
from ..protocol.versions import DEFAULT_HEADER_VERSION
from ..protocol.versions import SUPPORTED_VERSIONS
from ..protocol.versions import allows_batching
from ..protocol.versions import supports_priming_events
from ..store import Store
from . import streaming
from .checks import accepts
from .checks import read_body
from .checks import refused_host
from .events import STANDALONE
from .events import EventLog
from .events import format_event
from .events import parse_event_id
from .guard import AuthGate
from .guard import Refusal
from .guard import principal_of
from .sessions import Session
from .sessions import SessionManager

log = logging.getLogger("flask_mcp")

SESSION_HEADER = "Mcp-Session-Id"
VERSION_HEADER = "MCP-Protocol-Version"
#: Not in JSON-RPC; the code the MCP SDKs use for "session not found".
SESSION_NOT_FOUND = -32001
#: Server-defined code of refused credentials (HTTP 401/403 carry the detail).
AUTH_ERROR = -32000
JSON = "application/json"
SSE = "text/event-stream"


class HTTPError(Exception):
    """Ends a request with a JSON-RPC error body and an HTTP status."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        request_id: t.Any = None,
        headers: dict[str, str] | None = None,
        given: BaseResponse | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error = JsonRpcError(code, message)
        self.request_id = request_id
        self.headers = headers or {}
        self.given = given

    def response(self) -> BaseResponse:
        if self.given is not None:  # the user's own refusal, as they built it
            return self.given
        return json_response(
            jsonrpc.error_message(self.request_id, self.error),
            self.status,
            self.headers,
        )


def json_response(
    payload: t.Any, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    body = json.dumps(payload, separators=(",", ":"))
    return Response(body, status, headers, mimetype=JSON)


class Endpoint:
    """Serves one :class:`McpServer` over Streamable HTTP."""

    def __init__(
        self,
        server: McpServer,
        store: Store,
        settings: Settings,
        sessions: SessionManager,
        events: EventLog,
        gate: AuthGate,
    ) -> None:
        self.server = server
        self.store = store
        self.settings = settings
        self.sessions = sessions
        self.events = events
        self.gate = gate

    # -- entry point -------------------------------------------------------

    def dispatch(self, request: Request) -> BaseResponse:
        try:
            self._check_origin(request)
            if request.method == "POST":
                return self.post(request)
            if request.method == "GET":
                return self.get(request)
            if request.method == "DELETE":
                return self.delete(request)
            raise HTTPError(
                405,
                INVALID_REQUEST,
                f"Method {request.method} not allowed",
                headers={"Allow": "GET, POST, DELETE"},
            )
        except HTTPError as exc:
            log.info("MCP request refused (%s): %s", exc.status, exc.error.message)
            return exc.response()

    def _authenticate(self, request: Request, request_id: t.Any = None) -> t.Any:
        """Run ``authenticate``; a refusal becomes 401/403 with a challenge."""
        try:
            auth = self.gate.authenticate(request)
        except Refusal as refusal:
            raise self._refusal(refusal, request, request_id) from None
        g.mcp_auth = auth
        return auth

    def _refusal(
        self, refusal: Refusal, request: Request, request_id: t.Any
    ) -> HTTPError:
        error = refusal.error
        headers = self.gate.challenge_headers(refusal, request)
        message = error.description or (
            "Unauthorized" if error.status_code == 401 else "Forbidden"
        )
        return HTTPError(
            error.status_code,
            AUTH_ERROR,
            message,
            request_id,
            headers,
            self.gate.user_response(refusal, request),
        )

    def _check_origin(self, request: Request) -> None:
        refused = refused_host(request, self.settings)
        if refused:
            raise HTTPError(403, INVALID_REQUEST, refused)

    # -- POST --------------------------------------------------------------

    def post(self, request: Request) -> Response:
        if not accepts(request.headers.get("Accept", ""), JSON, SSE):
            raise HTTPError(
                406,
                INVALID_REQUEST,
                "Not Acceptable: Accept must list application/json"
                " and text/event-stream",
            )
        if request.mimetype != JSON:
            raise HTTPError(
                415, INVALID_REQUEST, "Unsupported Media Type: send application/json"
            )
        body = read_body(request.stream, request.content_length, self.settings.max_body)
        if body is None:
            raise HTTPError(413, INVALID_REQUEST, "Payload Too Large")
        try:
            payload = jsonrpc.decode(body)
        except JsonRpcError as exc:
            raise HTTPError(400, exc.code, exc.message) from None

        single = payload if isinstance(payload, dict) else None
        request_id = jsonrpc.readable_id(single)
        auth = self._authenticate(request, request_id)
        message = self._parse(payload) if not isinstance(payload, list) else None
        if isinstance(message, RpcRequest) and not self.server.knows(message.method):
            # Probes such as ``server/discover`` get "unknown method" before any
            # session or version check, so clients fall back to ``initialize``.
            error = JsonRpcError(
                jsonrpc.METHOD_NOT_FOUND, f"Method not found: {message.method}"
            )
            return json_response(jsonrpc.error_message(message.id, error))
        header_version = self._header_version(request, request_id)
        if isinstance(message, RpcRequest) and message.method == "initialize":
            return self._initialize(message, auth)
        session = self._session(request, auth, request_id)
        version = session.protocol_version if session else header_version

        if message is None:
            if not allows_batching(version) or not payload:
                raise HTTPError(
                    400,
                    INVALID_REQUEST,
                    "Invalid Request: batches are not allowed in this protocol version",
                )
            return self._batch(payload, session, version, auth)
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
        version = request.headers.get(VERSION_HEADER)
        if version is None:
            return DEFAULT_HEADER_VERSION
        if version not in SUPPORTED_VERSIONS:
            raise HTTPError(
                400,
                INVALID_REQUEST,
                f"Bad Request: unsupported MCP-Protocol-Version {version!r}",
                request_id,
            )
        return version

    def _session(
        self, request: Request, auth: t.Any, request_id: t.Any = None
    ) -> Session | None:
        session_id = request.headers.get(SESSION_HEADER)
        if self.settings.stateless:
            return None
        if not session_id:
            raise HTTPError(
                400,
                INVALID_REQUEST,
                "Bad Request: Mcp-Session-Id header is required",
                request_id,
            )
        session = self.sessions.load(session_id)
        if session is None or session.principal != principal_of(auth):
            # Another principal's session answers exactly like an unknown one.
            raise HTTPError(404, SESSION_NOT_FOUND, "Session not found", request_id)
        return session

    def _initialize(self, message: RpcRequest, auth: t.Any) -> Response:
        version, result = self.server.initialize(message.params)
        headers = {}
        if not self.settings.stateless:
            session = self.sessions.create(version, message.params, principal_of(auth))
            self.store.sweep(every=self.sessions.ttl)
            headers[SESSION_HEADER] = session.id
        return json_response(
            jsonrpc.result_message(message.id, result), headers=headers
        )

    def _accept(self, message: jsonrpc.Message, session: Session | None) -> None:
        """Notifications need no answer; responses wake a waiting handler."""
        if isinstance(message, RpcResponse) and isinstance(message.id, str):
            key = streaming.reply_key(session.id if session else None, message.id)
            self.store.set(key, message.payload, self.settings.request_timeout + 5)
        elif isinstance(message, Notification):
            log.debug("notification %s", message.method)

    def _batch(
        self, payload: list[t.Any], session: Session | None, version: str, auth: t.Any
    ) -> Response:
        answers = []
        for item in payload:
            try:
                message = jsonrpc.parse_message(item)
            except JsonRpcError as exc:
                answers.append(jsonrpc.error_message(jsonrpc.readable_id(item), exc))
                continue
            if isinstance(message, RpcRequest):
                try:
                    self._step_up(message, auth)
                except AuthError as exc:
                    error = JsonRpcError(AUTH_ERROR, exc.description or "Forbidden")
                    answers.append(jsonrpc.error_message(message.id, error))
                    continue
                call = self._call(session, version, streaming.NullChannel(), auth)
                answers.append(self._run(message, call))
            else:
                self._accept(message, session)
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
        )

    def _step_up(self, message: RpcRequest, auth: t.Any) -> None:
        """A listed tool the caller lacks scopes for answers 403 insufficient_scope."""
        if message.method != "tools/call":
            return
        name = message.params.get("name")
        tool = self.server.registry.tools.get(name) if isinstance(name, str) else None
        if tool is not None and tool.step_up and not tool.allows(auth):
            scopes = getattr(tool.can_access, "required_scopes", ())
            raise Forbidden(f"tool {tool.name} needs more scopes", scopes=scopes)

    def _run(self, message: RpcRequest, call: Call) -> dict[str, t.Any]:
        try:
            return jsonrpc.result_message(message.id, self.server.handle(message, call))
        except JsonRpcError as exc:
            log.info("MCP %s refused (%s): %s", message.method, exc.code, exc.message)
            return jsonrpc.error_message(message.id, exc)
        except Exception:
            log.exception("MCP method %s failed", message.method)
            error = JsonRpcError(jsonrpc.INTERNAL_ERROR, "Internal error")
            return jsonrpc.error_message(message.id, error)

    def _answer(
        self,
        request: Request,
        message: RpcRequest,
        session: Session | None,
        version: str,
        auth: t.Any,
    ) -> Response:
        try:
            self._step_up(message, auth)
        except AuthError as exc:
            raise self._refusal(Refusal(exc), request, message.id) from None
        if session is None or not self.server.wants_channel(message):
            call = self._call(session, version, streaming.NullChannel(), auth)
            return json_response(self._run(message, call))
        channel = streaming.StreamChannel(self.store, self.events, session.id)
        call = self._call(session, version, channel, auth)
        streaming.start(lambda: self._run(message, call), channel)
        first = streaming.first(channel)
        if first is not streaming.CLOSE and jsonrpc_is_response(first[1]):
            return json_response(first[1])
        body = streaming.sse_body(
            channel,
            first,
            supports_priming_events(session.protocol_version),
            self.settings.retry_ms,
        )
        return sse_response(body)

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
        session = self._session(request, self._authenticate(request))
        assert session is not None
        last_event = request.headers.get("Last-Event-ID")
        if last_event:
            parsed = parse_event_id(last_event)
            if parsed is None:
                raise HTTPError(
                    400, INVALID_REQUEST, "Bad Request: malformed Last-Event-ID"
                )
            stream, after = parsed
        else:
            stream, after = STANDALONE, self.events.last(session.id, STANDALONE)
        hold = (
            self.settings.request_timeout
            if stream != STANDALONE
            else self.settings.stream_hold
        )
        return sse_response(self._follow(session.id, stream, after, hold))

    def _follow(
        self, session_id: str, stream: str, after: int, hold: float
    ) -> t.Iterator[bytes]:
        yield format_event(None, f"{stream}.{after}", self.settings.retry_ms)
        for event_id, message in self.events.follow(session_id, stream, after, hold):
            yield format_event(message, event_id)

    # -- DELETE ------------------------------------------------------------

    def delete(self, request: Request) -> Response:
        self._require_sessions()
        session = self._session(request, self._authenticate(request))
        assert session is not None
        self.sessions.end(session)
        return empty_response(204)

    # -- server-initiated messages ----------------------------------------

    def send_to_session(
        self, session_id: str, method: str, params: dict[str, t.Any]
    ) -> None:
        """Queue a notification on a session's GET stream."""
        self.events.append(
            session_id, STANDALONE, jsonrpc.notification_message(method, params)
        )

    def notify_resource_updated(self, uri: str) -> None:
        """Tell every session subscribed to ``uri`` that it changed."""
        for session_id in self.sessions.subscribers(uri):
            self.send_to_session(
                session_id, "notifications/resources/updated", {"uri": uri}
            )

    def notify_list_changed(self, kind: str) -> None:
        """Tell every live session that the ``kind`` list changed."""
        for session_id in self.sessions.live_ids():
            self.send_to_session(session_id, f"notifications/{kind}/list_changed", {})


def empty_response(status: int) -> Response:
    """An answer with no body, and so no content type."""
    response = Response(status=status)
    del response.headers["Content-Type"]
    return response


def jsonrpc_is_response(message: dict[str, t.Any]) -> bool:
    return "method" not in message


def sse_response(body: t.Iterator[bytes]) -> Response:
    return Response(
        body,
        mimetype=SSE,
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        direct_passthrough=True,
    )
