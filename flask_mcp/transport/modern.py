"""The per-request path: MCP 2026-07-28 (SEP-2575, SEP-2243, SEP-2322).

No session, no GET stream, no server-to-client requests: each POST carries
its version and the client's capabilities, is validated against its routing
headers, and is answered as JSON or as an SSE stream of that request's own
notifications. Questions to the client travel as ``input_required`` results
(see :mod:`flask_mcp.protocol.inputs`). ``subscriptions/listen`` is answered
with a held stream of change notifications (see :mod:`.holds`).
"""

from __future__ import annotations

import functools
import typing as t

from werkzeug.wrappers import Request
from werkzeug.wrappers import Response

from ..addresses import client_key
from ..config import Settings
from ..protocol import jsonrpc
from ..protocol.call import Call
from ..protocol.context import LOG_LEVELS
from ..protocol.envelope import check_param_headers
from ..protocol.envelope import read_envelope
from ..protocol.jsonrpc import INVALID_PARAMS
from ..protocol.jsonrpc import METHOD_NOT_FOUND
from ..protocol.jsonrpc import JsonRpcError
from ..protocol.jsonrpc import Notification
from ..protocol.jsonrpc import Request as RpcRequest
from ..protocol.server import LISTEN
from ..store import Store
from . import streaming
from .bus import NotificationBus
from .checks import header
from .cursors import ListenCursors
from .cursors import identity
from .descriptions import LIST_FILTERS
from .descriptions import listen_channels
from .descriptions import listen_stream
from .exchange import Exchange
from .holds import Holder
from .responses import HTTPError
from .responses import empty_response
from .responses import json_response
from .worker_holder import Ending

#: Ends of a listen the client did not ask for: its next listen replays.
_SERVER_ENDS = frozenset({"yield", "stop", "time"})
#: Resource URIs one listen may follow.
MAX_RESOURCE_SUBSCRIPTIONS = 1000


class ModernPath:
    """POST of the 2026-07-28 revision.

    :param exchange: authenticates callers and runs their requests.
    :param bus: the change notifications that listen streams deliver.
    :param holder: what holds listen streams open.
    """

    def __init__(
        self,
        exchange: Exchange,
        settings: Settings,
        store: Store,
        bus: NotificationBus,
        holder: Holder,
    ) -> None:
        self.exchange = exchange
        self.server = exchange.server
        self.settings = settings
        self.store = store
        self.bus = bus
        self.holder = holder
        self.cursors = ListenCursors(store)

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
        exchange = self.exchange
        auth = exchange.authenticate(request, message.id)
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
        exchange.check_step_up(request, message, auth)
        call = Call(
            protocol_version=envelope.version,
            channel=streaming.NullChannel(),
            auth=auth,
            principal=exchange.principal(auth),
            envelope=envelope,
        )
        if message.method == LISTEN:
            return self._listen(request, message, call)
        if not self.server.wants_channel(message):
            return self._answer(exchange.run(request, message, call))
        channel = streaming.StreamChannel(self.store, None, None, message.id)
        call.channel = channel
        return streaming.answer(
            lambda: exchange.run(request, message, call),
            channel,
            as_json=self._answer,
            body=lambda first: streaming.sse_body(
                channel,
                first,
                priming=False,
                retry_ms=self.settings.retry_ms,
                cancelled=call.cancelled,
                keepalive=self.settings.keepalive_interval,
                gone=streaming.disconnect_probe(request.environ),
            ),
        )

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

    def _listen(self, request: Request, message: RpcRequest, call: Call) -> Response:
        """Acknowledge, then stream the changes the filter asks for.

        The holder keeps the stream open while the worker can spare the
        thread and ends it gracefully (with the listen result) when it
        cannot; the client then listens again.
        """
        kinds, uris, tasks, honoured = self._filter(
            message.params.get("notifications"), call, message.id
        )
        client = client_key(request.remote_addr)
        channels = listen_channels(kinds, uris, tasks)
        listener = identity(call.principal, client, channels)
        stream = listen_stream(
            message.id,
            channels,
            honoured,
            self.bus,
            principal=call.principal,
            client=client,
            after=self.cursors.get(listener),
        )

        def ended(position: int, why: Ending) -> None:
            if why in _SERVER_ENDS:
                self.cursors.remember(listener, position)

        return self.holder.hold(stream, request.environ, ended)

    def _filter(
        self, requested: t.Any, call: Call, request_id: t.Any
    ) -> tuple[set[str], list[str], list[str], dict[str, t.Any]]:
        """The list kinds, resource URIs and task ids a listen filter asks
        for and may have, and the filter as granted (for the
        acknowledgement)."""
        if requested is None:
            requested = {}
        if not isinstance(requested, dict):
            raise HTTPError(
                400,
                INVALID_PARAMS,
                "Invalid params: notifications must be an object",
                request_id,
            )
        asked = [key for key in LIST_FILTERS if requested.get(key) is True]
        honoured: dict[str, t.Any] = dict.fromkeys(asked, True)
        uris = requested.get("resourceSubscriptions")
        granted: list[str] = []
        if uris is not None:
            if not isinstance(uris, list) or not all(isinstance(u, str) for u in uris):
                raise HTTPError(
                    400,
                    INVALID_PARAMS,
                    "Invalid params: resourceSubscriptions must be a list of URIs",
                    request_id,
                )
            if len(uris) > MAX_RESOURCE_SUBSCRIPTIONS:
                raise HTTPError(
                    400,
                    INVALID_PARAMS,
                    "Invalid params: at most"
                    f" {MAX_RESOURCE_SUBSCRIPTIONS} resourceSubscriptions per listen",
                    request_id,
                )
            # Only resources the caller may read; others are left out of the ack.
            granted = [u for u in uris if self.server.methods.resource_visible(u, call)]
            honoured["resourceSubscriptions"] = granted
        tasks = self._task_filter(requested.get("taskIds"), call, request_id)
        if tasks is not None:
            honoured["taskIds"] = tasks
        return {LIST_FILTERS[key] for key in asked}, granted, tasks or [], honoured

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
