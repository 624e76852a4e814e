"""Signals: what happened in a server, for telemetry and your own code.

As Flask announces its requests (:mod:`flask.signals`), flask_mcp announces
MCP operations, refusals, sign-ins, tokens, store outages, held streams and
upstream calls through `blinker <https://blinker.readthedocs.io>`_ signals.
The library's traces, metrics and audit trail (``flask_mcp.ops``, see the
operations guide) are receivers of these signals like any other; connect
your own the same way::

    from flask_mcp import signals

    @signals.operation_finished.connect_via(app)
    def log_slow(sender, operation):
        if operation.duration > 1.0:
            app.logger.warning("slow %s %s", operation.method, operation.name)

Who sends what:

* ``sender`` is the Flask app for everything that happens in a request of
  that app (operations, refusals, sign-ins, tokens, streams, task legs);
  the store's ``Health`` (``store.health``) for store events
  (shared by a store and its children); the provider's name for upstream
  calls.
* Each signal sends one keyword argument: ``operation``, ``refusal``,
  ``event``, ``call`` or ``stream`` (an object of this module), or the
  store's ``kind``/``seconds``/``error``.

Emitters build the payload only when someone listens
(``if signal.receivers``), so a server nobody observes pays nothing. A
receiver runs inside the request: it must be quick and must not raise
(an exception propagates to the request, as in Flask's signals).

This module imports nothing of Flask or of the rest of flask_mcp, so every
layer (the framework-free protocol code, the store, the identity providers)
may emit.
"""

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass
from dataclasses import field

from blinker import Namespace

_signals = Namespace()

# -- MCP operations ------------------------------------------------------------

#: A request message starts executing (``operation=``:class:`Operation`).
#: Sent right before the handler runs, from the thread that runs it.
operation_started = _signals.signal("mcp-operation-started")
#: The same request has its answer: ``operation.outcome`` and
#: ``operation.duration`` are set. Always follows :data:`operation_started`,
#: in the same thread, whatever happened in between.
operation_finished = _signals.signal("mcp-operation-finished")
#: A task leg (a piece of a long-running tool call run by a task worker)
#: starts (``operation=``:class:`Operation`, ``method`` names the leg).
task_leg_started = _signals.signal("mcp-task-leg-started")
#: The task leg ended; ``operation.outcome`` says how.
task_leg_finished = _signals.signal("mcp-task-leg-finished")

# -- refusals ------------------------------------------------------------------

#: Authentication or an access check turned a request away
#: (``refusal=``:class:`Refusal`, ``kind="auth"``).
auth_refused = _signals.signal("mcp-auth-refused")
#: A limit turned a request away with 429 (``refusal=``:class:`Refusal`,
#: ``kind="limit"``).
limit_refused = _signals.signal("mcp-limit-refused")

# -- sign-ins and tokens of the OAuth proxy ------------------------------------

#: A user came back from the upstream provider (``event=``:class:`AuthEvent`;
#: ``outcome`` is ``"ok"`` or why the sign-in failed).
signed_in = _signals.signal("mcp-signed-in")
#: The proxy issued an access token (and a refresh token, if the client may
#: refresh) for an authorization code, a client's credentials or an
#: identity assertion (``event=``:class:`AuthEvent`).
token_issued = _signals.signal("mcp-token-issued")
#: The proxy issued new tokens for a refresh token (``event=``).
token_refreshed = _signals.signal("mcp-token-refreshed")
#: A token family (grant) ended: revoked by its client, by an operator,
#: or because a code or refresh token was replayed (``event=``).
token_revoked = _signals.signal("mcp-token-revoked")

# -- the shared store ----------------------------------------------------------

#: One store operation finished: ``kind`` (``read``, ``write``, ``remove``,
#: ``lock``, ``sweep``), ``seconds`` and ``failed`` (bool). Sent by
#: :class:`~flask_mcp.store.Store` for every call while someone listens.
store_called = _signals.signal("mcp-store-called")
#: The first failure of a store outage (``kind``, ``error``), once per process.
store_unavailable = _signals.signal("mcp-store-unavailable")
#: The store answers again after an outage of ``seconds``.
store_recovered = _signals.signal("mcp-store-recovered")

# -- held streams ----------------------------------------------------------------

#: A response stream (SSE) started holding a worker (``stream=``:class:`Stream`).
stream_opened = _signals.signal("mcp-stream-opened")
#: It ended (``stream.duration`` set); always follows :data:`stream_opened`.
stream_closed = _signals.signal("mcp-stream-closed")

# -- calls to the upstream identity provider -------------------------------------

#: The OAuth proxy calls its upstream provider (``call=``:class:`UpstreamCall`).
upstream_call_started = _signals.signal("mcp-upstream-call-started")
#: The call returned or failed (``call.error`` set on failure).
upstream_call_finished = _signals.signal("mcp-upstream-call-finished")


#: Outcomes of an :class:`Operation`, as metrics and the audit trail name them.
OUTCOMES = (
    "ok",  # a result
    "tool_error",  # a tools/call result with isError: true
    "error",  # a JSON-RPC error answer (invalid params, not found, a crash...)
    "cancelled",  # the client went away before the answer
    "refused",  # authentication or an access check refused it (401, 403)
    "limited",  # a rate limit refused it (429)
    "unavailable",  # the store did not answer (503)
)


@dataclass(slots=True)
class Operation:
    """One MCP request message, from the start of its handler to its answer.

    The transport fills in what the request says; :meth:`finish` the end.
    Receivers may keep their own per-operation data in ``scratch`` (a span,
    a context token), under a key of their own.
    """

    #: The JSON-RPC method (``tools/call``).
    method: str
    #: The tool or prompt name, or the resource URI, as the client sent it
    #: (truncated to 256 characters); ``None`` for other methods.
    name: str | None = None
    #: A low-cardinality name for metrics and span names: the tool or prompt
    #: name, or the resource's URI or URI template, only when the server
    #: has it; ``""`` otherwise.
    target: str = ""
    #: The JSON-RPC request id.
    request_id: str | int | None = None
    #: The MCP protocol version the request is served under.
    protocol_version: str | None = None
    #: The MCP session (2025 revisions), if any.
    session_id: str | None = None
    #: ``params.arguments`` of a tool call or prompt, as sent.
    arguments: t.Any = None
    #: ``params._meta``, where clients put ``traceparent``/``tracestate``.
    meta: t.Mapping[str, t.Any] = field(default_factory=dict)
    #: Reads an HTTP request header by name (``traceparent``...); ``None``
    #: when there is no HTTP request (a task leg).
    header: t.Callable[[str], str | None] | None = None
    #: The caller's auth session (whatever ``authenticate`` returned).
    auth: t.Any = None
    #: The client's network address.
    client_address: str | None = None
    #: :func:`time.time` at the start, for logs.
    started_at: float = field(default_factory=time.time)
    #: :func:`time.perf_counter` at the start, for the duration.
    started: float = field(default_factory=time.perf_counter)
    #: One of :data:`OUTCOMES`, set by :meth:`finish`.
    outcome: str = "ok"
    #: The JSON-RPC error code (or HTTP status of a refusal), if any.
    error_code: int | None = None
    #: The error's message, if any.
    error_message: str | None = None
    #: Seconds from the start to the answer, set by :meth:`finish`.
    duration: float = 0.0
    #: Per-receiver data, by a key of the receiver's own.
    scratch: dict[str, t.Any] = field(default_factory=dict)
    #: Who announced it (the app): :data:`operation_finished` comes from it too.
    sender: t.Any = field(default=None, repr=False)

    def finish(
        self,
        outcome: str,
        error_code: int | None = None,
        error_message: str | None = None,
    ) -> None:
        """Record how the operation ended and how long it took."""
        self.duration = time.perf_counter() - self.started
        self.outcome = outcome
        self.error_code = error_code
        self.error_message = error_message


@dataclass(frozen=True)
class Refusal:
    """A request turned away before (or instead of) its handler."""

    #: ``"auth"`` or ``"limit"``.
    kind: str
    #: Why, in a few words that are the same every time: for auth the OAuth
    #: error (``invalid_token``, ``insufficient_scope``) or
    #: ``unauthenticated``/``forbidden``; for limits which limit
    #: (``default``, ``tool``).
    reason: str
    #: The HTTP status answered (401, 403, 429).
    status: int
    #: The JSON-RPC method, when the refusal is of one message.
    method: str | None = None
    #: The tool or prompt name the message asked for (truncated to 256
    #: characters), if any.
    name: str | None = None
    #: The caller's auth session, when known (limits run after auth).
    auth: t.Any = None
    #: The client's network address.
    client_address: str | None = None
    #: Seconds the client was told to wait (limits).
    retry_after: float | None = None
    #: The JSON-RPC request id, when the refusal is of one message.
    request_id: str | int | None = None
    #: The URL path requested.
    path: str | None = None


@dataclass(frozen=True)
class AuthEvent:
    """A sign-in or a token event of the OAuth proxy."""

    #: The user, as the upstream provider names them (``sub``).
    subject: str | None
    #: The MCP client.
    client_id: str | None
    #: The token family (grant) concerned.
    grant_id: str | None = None
    #: ``"ok"``, or for a failed sign-in the error (``access_denied``...).
    outcome: str = "ok"
    #: For revocations: ``client`` (RFC 7009 request), ``operator`` (the
    #: ``flask mcp tokens revoke`` command), ``replay`` (a reused code or
    #: refresh token), ``upstream`` (the provider refused a refresh).
    reason: str | None = None
    #: The upstream provider's name.
    provider: str | None = None
    #: The client's network address.
    client_address: str | None = None


@dataclass
class Stream:
    """A response stream holding a sync worker while it is open."""

    #: ``request`` (the SSE answer of a POST), ``session`` (a 2025 GET
    #: stream), ``resume`` (a replay after ``Last-Event-ID``) or ``listen``
    #: (``subscriptions/listen``, 2026-07-28).
    kind: str
    started: float = field(default_factory=time.perf_counter)
    #: Seconds it was open, set when it closes.
    duration: float = 0.0


@dataclass
class UpstreamCall:
    """One HTTP call of the OAuth proxy to its upstream provider."""

    #: The provider's name (``google``).
    provider: str
    #: What was called (``token endpoint``).
    what: str
    started: float = field(default_factory=time.perf_counter)
    duration: float = 0.0
    #: The error code when the call failed (``temporarily_unavailable``...).
    error: str | None = None
    #: Per-receiver data, as :attr:`Operation.scratch`.
    scratch: dict[str, t.Any] = field(default_factory=dict)
