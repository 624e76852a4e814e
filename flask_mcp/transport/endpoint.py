"""The Streamable HTTP endpoint: one URL, both protocol eras.

This is where transport, sessions, auth and the protocol server meet. A POST
whose body claims a modern protocol version in ``params._meta`` is served per
request by :mod:`.modern`; everything else (``initialize``, GET, DELETE,
batches, posted responses) takes the session-based path of :mod:`.legacy`,
unchanged from the 2025 revisions (MCP 2026-07-28, "Versioning").
"""

from __future__ import annotations

import logging
import typing as t

from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from ..config import Settings
from ..protocol import jsonrpc
from ..protocol.envelope import claims_modern
from ..protocol.envelope import header_claims_modern
from ..protocol.jsonrpc import INVALID_PARAMS
from ..protocol.jsonrpc import INVALID_REQUEST
from ..protocol.jsonrpc import JsonRpcError
from ..protocol.jsonrpc import is_response
from ..protocol.server import McpServer
from ..store import Store
from ..store import StoreUnavailable
from .bus import LIST_CHANGED
from .bus import REOPEN
from .bus import RESOURCE_UPDATED
from .bus import Change
from .bus import NotificationBus
from .checks import accepts
from .checks import header
from .checks import is_json
from .checks import read_body
from .checks import refused_host
from .events import EventLog
from .exchange import Exchange
from .exchange import MessageLimiter
from .fairshare import FairShare
from .guard import AuthGate
from .holds import Holder
from .legacy import LegacyPath
from .modern import ModernPath
from .responses import JSON
from .responses import SSE
from .responses import HTTPError
from .responses import cors
from .responses import preflight
from .responses import unavailable
from .sessions import Session
from .sessions import SessionManager
from .worker_holder import WorkerHolder

log = logging.getLogger(__name__)


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
        self.bus = NotificationBus(events)
        sessions.on_subscriptions = self._reopen
        sessions.on_end.append(self._reopen)  # its GET stream ends, wherever held
        fair = FairShare(
            store,
            settings.holds_per_principal,
            settings.holds_per_address,
            renew_every=settings.lease_interval * 5,
        )
        self.holder = WorkerHolder(self.bus, settings, fair)
        self.exchange = Exchange(server, gate)
        self.legacy = LegacyPath(
            self.exchange,
            settings,
            sessions,
            events,
            self.bus,
            self.holder,
            self.holder.capacity,
        )
        self.modern = ModernPath(self.exchange, settings, store, self.bus, self.holder)

    @property
    def limiter(self) -> MessageLimiter | None:
        """Checks each request message against rate limits before it runs
        (:class:`flask_mcp.ops.rate_limits.RateLimits`); ``None``: none."""
        return self.exchange.limiter

    @limiter.setter
    def limiter(self, limiter: MessageLimiter | None) -> None:
        self.exchange.limiter = limiter

    def use_holder(self, holder: Holder) -> None:
        """Serve held streams with ``holder`` (a stream gateway's, which falls
        back on :attr:`holder`, the worker's)."""
        self.legacy.holder = self.modern.holder = holder

    # -- entry point -------------------------------------------------------

    def dispatch(self, request: Request) -> Response:
        response = self._dispatch(request)
        origin = header(request.environ, "Origin")
        if origin and response.status_code != 403:  # an Origin that passed the check
            cors(response, origin)
        return response

    def _dispatch(self, request: Request) -> Response:
        try:
            refused = refused_host(request, self.settings)
            if refused:
                raise HTTPError(403, INVALID_REQUEST, refused)
            if request.method == "POST":
                return self.post(request)
            if request.method == "GET":
                return self.legacy.get(request)
            if request.method == "DELETE":
                return self.legacy.delete(request)
            if request.method == "OPTIONS":
                return preflight(request)
            raise HTTPError(
                405,
                INVALID_REQUEST,
                f"Method {request.method} not allowed",
                headers={"Allow": "GET, POST, DELETE"},
            )
        except StoreUnavailable:
            return unavailable().response()
        except HTTPError as exc:
            log.info("MCP request refused (%s): %s", exc.status, exc.error.message)
            return exc.response()

    def post(self, request: Request) -> Response:
        environ = request.environ
        if not accepts(header(environ, "Accept") or "", JSON, SSE):
            raise HTTPError(
                406,
                INVALID_REQUEST,
                "Not Acceptable: Accept must list application/json"
                " and text/event-stream",
            )
        if not is_json(header(environ, "Content-Type") or ""):
            raise HTTPError(
                415, INVALID_REQUEST, "Unsupported Media Type: send application/json"
            )
        body = read_body(request, self.settings.max_body)
        if body is None:
            raise HTTPError(413, INVALID_REQUEST, "Payload Too Large")
        try:
            payload = jsonrpc.decode(body)
        except JsonRpcError as exc:
            raise HTTPError(400, exc.code, exc.message) from None
        try:
            return self._route(request, payload)
        except StoreUnavailable:
            raise unavailable(jsonrpc.readable_id(payload)) from None

    def _route(self, request: Request, payload: t.Any) -> Response:
        """Send a decoded body down the path of its era."""
        if claims_modern(payload):
            return self.modern.post(request, payload)
        if isinstance(payload, list) and any(claims_modern(item) for item in payload):
            raise HTTPError(
                400, INVALID_REQUEST, "Invalid Request: 2026-07-28 has no batches"
            )
        if header_claims_modern(request.headers.get) and not is_response(payload):
            raise HTTPError(
                400,
                INVALID_PARAMS,
                "Invalid params: a 2026-07-28 request carries its protocol version"
                " in params._meta",
                jsonrpc.readable_id(payload),
            )
        return self.legacy.post(request, payload)

    # -- server-initiated messages ----------------------------------------

    def notify_resource_updated(self, uri: str) -> None:
        """Tell every client subscribed to ``uri`` that it changed."""
        self.bus.publish(Change(RESOURCE_UPDATED, {"uri": uri}))

    def notify_list_changed(self, kind: str) -> None:
        """Tell every client listening that the ``kind`` list changed."""
        self.bus.publish(Change(LIST_CHANGED[kind], {}))

    def _reopen(self, session: Session) -> None:
        """A session's subscriptions changed, or it ended: its GET stream
        ends at once (retry 0), and the client's next one reflects that."""
        self.bus.publish(Change(REOPEN, {}, session=session.id))

    def send_to_session(
        self, session_id: str, method: str, params: dict[str, t.Any]
    ) -> None:
        """Send a notification to one legacy session's GET stream."""
        self.bus.publish(Change(method, params, session=session_id))
