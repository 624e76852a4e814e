"""``MCP_*`` configuration keys and their defaults.

Each is applied with ``app.config.setdefault`` in
:meth:`~flask_mcp.FlaskMCP.init_app`; a key set in the app's config wins.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

#: URL rule of the Streamable HTTP endpoint.
MCP_PATH = "/mcp"
#: Where shared state lives: ``None`` (files in the instance folder, one host),
#: ``redis://host:6379/0``, ``rediss://...`` or ``unix:///path/redis.sock``
#: (several hosts), ``redis+sentinel://host:26379,.../mymaster`` (a primary
#: that Sentinel fails over), ``redis+cluster://host:6379,...`` (a Redis
#: Cluster), ``file:///path`` (files in that folder) or ``memory://`` (one
#: process: tests only). See :doc:`/deployment`.
MCP_STORE_URL: str | None = None
#: Another store: ``"mypkg.stores:make_backend"`` (or the callable itself),
#: called as ``make_backend(app.config, app.instance_path)`` and returning a
#: :class:`~flask_mcp.store.StoreBackend`. Wins over ``MCP_STORE_URL``.
MCP_STORE_FACTORY: str | None = None
#: Seconds Redis gets to accept a connection and to answer each command (and
#: a write to the file store waits for another process's); past it the
#: request fails with 503 instead of hanging a worker, and the store fails
#: fast until it answers again. Query options in ``MCP_STORE_URL``
#: (``?socket_timeout=5``) win.
MCP_STORE_TIMEOUT = 2.0
#: Host names (``name`` for any port or ``name:port``) the endpoint answers;
#: ``None`` allows ``localhost``, ``127.0.0.1`` and ``[::1]`` on any port;
#: ``["*"]`` turns the DNS-rebinding check off.
MCP_ALLOWED_HOSTS: list[str] | None = None
#: Browser origins allowed to call the endpoint; ``None`` allows origins whose
#: host passes ``MCP_ALLOWED_HOSTS``.
MCP_ALLOWED_ORIGINS: list[str] | None = None
#: Largest request body accepted, in bytes (413 above it).
MCP_MAX_BODY = 4 * 1024 * 1024
#: Items per page of ``tools/list`` and the other list methods.
MCP_PAGE_SIZE = 50
#: Seconds an idle MCP session is kept.
MCP_SESSION_TTL = 3600
#: Serve without sessions: no ``Mcp-Session-Id``, no GET stream, no
#: server-to-client requests. For horizontally scaled, tools-only servers.
MCP_STATELESS = False
#: Seconds a handler waits for the client's answer to sampling/elicitation.
#: Keep it below gunicorn's ``--timeout`` (30 s by default) on sync workers.
MCP_REQUEST_TIMEOUT = 25.0
#: Seconds an idle GET stream stays open before the client is told to
#: reconnect. Each open stream holds a sync worker, so keep it short there.
MCP_STREAM_HOLD = 1.0
#: Milliseconds clients wait before reconnecting a closed SSE stream.
MCP_SSE_RETRY_MS = 500
#: Seconds stream events are kept for replay with ``Last-Event-ID``.
MCP_EVENT_TTL = 300
#: Hide exception text from clients (the log keeps it).
MCP_MASK_ERRORS = True
#: ``WWW-Authenticate`` scheme of 401 answers when no OAuth discovery is
#: configured, such as ``'ApiKey header="X-API-Key"'``; ``None`` takes the one
#: the ``authenticate`` function declares (its ``www_authenticate``
#: attribute; ``api_key_auth`` declares ``ApiKey``), else ``Bearer``.
MCP_AUTH_CHALLENGE: str | None = None
#: Seconds a ``subscriptions/listen`` stream (2026-07-28) stays open before it
#: is closed gracefully and the client listens again. Each open stream holds
#: a sync worker: keep it well under gunicorn's ``--timeout``.
MCP_LISTEN_HOLD = 10.0
#: Seconds a ``requestState`` of a multi-round request (2026-07-28) is valid.
MCP_REQUEST_STATE_TTL = 900
#: Milliseconds 2026-07-28 clients may cache lists and ``server/discover``.
MCP_CACHE_LIST_TTL_MS = 60_000
#: Milliseconds they may cache ``resources/read`` results (per resource:
#: ``@mcp.resource(..., ttl_ms=...)``).
MCP_CACHE_READ_TTL_MS = 0
#: ``cacheScope`` of those results: ``"public"`` (shareable between users) or
#: ``"private"``; ``None`` picks ``"private"`` when requests are authenticated.
MCP_CACHE_SCOPE: str | None = None

# -- a stream gateway (flask_mcp.gateway) ---------------------------------------
#: GRIP publishing URL of a stream gateway in front of the app, such as
#: Pushpin's ``http://127.0.0.1:5561`` or a Fastly Fanout URL; ``None``: no
#: gateway, workers hold streams themselves. Listen and 2025 GET streams that
#: come through the gateway are then held there, not by a worker
#: (``pip install flask-mcp[gateway]``). GRIP URL parameters (``iss``,
#: ``key``, ``verify-iss``, ``verify-key``) are honoured.
MCP_GRIP_URL: str | None = None
#: The key the gateway signs ``Grip-Sig`` with (Pushpin's ``sig_key``, at least
#: 32 bytes; ``base64:...`` for binary keys, a PEM public key for a gateway
#: that signs with one). Only requests signed with it are held at the
#: gateway. ``None``: the ``verify-key`` (else ``key``) of ``MCP_GRIP_URL``.
MCP_GRIP_KEY: str | None = None
#: Seconds a stream held at the gateway lasts before it ends gracefully and
#: the client listens (or reconnects) again, with fresh credentials.
MCP_GRIP_HOLD = 3600.0
#: Longest pause, in seconds, between two requests the gateway makes for a
#: held stream (each keeps a 2025 session alive and renews the stream's
#: fair-share slots). A client that leaves silently frees its slots within
#: 1.25 times this plus 5 seconds; each held stream costs one request to
#: the app this often.
MCP_GRIP_REFRESH = 60.0

# -- held streams and streamed calls (flask_mcp.transport) -------------------
#: Seconds between keep-alive comments on a quiet stream: what keeps a
#: proxy's idle timeout from cutting it, and how a server notices a client
#: that left without closing.
MCP_KEEPALIVE_INTERVAL = 15.0
#: Seconds between renewals of what a worker proves in the store while it
#: works (a running 2025 request, a held stream); a lease missing three
#: renewals counts as its worker's death.
MCP_LEASE_INTERVAL = 2.0
#: Longest time in seconds a worker that can yield its threads (the gthread
#: worker of ``flask_mcp.gunicorn``) holds a listen or GET stream before
#: ending it gracefully; it yields it sooner when a request needs the
#: thread. Elsewhere ``MCP_STREAM_HOLD`` and ``MCP_LISTEN_HOLD`` apply.
MCP_HOLD_MAX = 300.0
#: Listen and GET streams one authenticated principal may hold at once,
#: across every worker and host (``0``: no cap); past it, 429.
MCP_HOLDS_PER_PRINCIPAL = 16
#: The same for one client address (IPv6 counted by /64), authenticated or
#: not. Clients behind one NAT share it: raise it for them, or let
#: ``ProxyFix`` tell the clients apart.
MCP_HOLDS_PER_ADDRESS = 32
#: Messages one JSON-RPC batch (2025-03-26 sessions only) may hold; a
#: larger batch is refused with 400.
MCP_BATCH_MAX_ITEMS = 50
#: Seconds a batch may run: requests not started by then are answered with
#: an error (send them again) instead of holding the worker on.
MCP_BATCH_TIMEOUT = 10.0

# -- the store's housekeeping --------------------------------------------------
#: Seconds between two checks, by one background thread per process, of a
#: store that cannot be reached; meanwhile requests that need it get 503 at once.
MCP_STORE_PROBE_INTERVAL = 0.5
#: Seconds between two sweeps of expired entries by each process's timer (the
#: file store; Redis expires entries itself). ``0`` turns the timer off
#: (``flask mcp purge`` still sweeps).
MCP_STORE_SWEEP_INTERVAL = 60.0

# -- operations (issue 18): flask_mcp.ops reads these ------------------------
#: Serve Prometheus metrics at ``MCP_METRICS_PATH`` (off by default). Every
#: gunicorn worker writes its numbers to ``MCP_METRICS_DIR``; a scrape of any
#: worker reads them all.
MCP_METRICS = False
#: URL path of the metrics.
MCP_METRICS_PATH = "/metrics"
#: Folder the workers of one host share for their numbers
#: (``prometheus_client``'s multiprocess mode); ``None``:
#: ``$PROMETHEUS_MULTIPROC_DIR``, else ``metrics`` in the instance folder.
#: Empty it when the server starts (see the operations guide).
MCP_METRICS_DIR: str | None = None
#: A bearer token the scraper sends (``Authorization: Bearer ...``);
#: when set, it alone opens the metrics.
MCP_METRICS_TOKEN: str | None = None
#: ``True`` opens the metrics to anyone. Otherwise they are a protected
#: route of the server (its ``authenticate``), unless ``MCP_METRICS_TOKEN``
#: is set.
MCP_METRICS_PUBLIC = False
#: One JSON line per tool call, resource read, prompt, sign-in, token event
#: and refusal on the logger ``flask_mcp.audit`` (see the operations guide).
MCP_AUDIT = False
#: Put the argument values in audit lines, not only their digest.
MCP_AUDIT_ARGUMENTS = False
#: OpenTelemetry spans per request and per upstream call (needs
#: ``opentelemetry-api``; an SDK configured by the app exports them).
MCP_TRACING = False
#: Rate limit of every request message, per caller (its principal, else its
#: address), such as ``"20/second"`` or ``"20/second;500/hour"``; ``None``:
#: none. Tools add their own with ``@mcp.tool(rate_limit=...)``.
MCP_RATE_LIMIT: str | None = None
#: Where limit counters live, as a Flask-Limiter storage URI
#: (``redis://...``, ``memory://``); ``None``: the store's Redis when
#: ``MCP_STORE_URL`` is Redis, else memory (each worker counts alone).
MCP_RATE_LIMIT_STORAGE_URI: str | None = None
#: Flask-Limiter strategy: ``fixed-window``, ``moving-window`` or
#: ``sliding-window-counter``.
MCP_RATE_LIMIT_STRATEGY = "fixed-window"
#: Liveness check (the process answers); ``None`` turns it off.
MCP_HEALTH_PATH: str | None = "/healthz"
#: Readiness check (the store answers, keys are loaded); ``None`` turns it off.
MCP_READY_PATH: str | None = "/readyz"

# -- tasks (tool calls that run off the web worker) -------------------------
#: Run task legs on Celery: a Celery app, ``"package.module:attribute"``
#: naming one, or a broker URL (``redis://...``, ``amqp://...``) for which
#: one is made; ``None`` runs them in threads of the web processes.
MCP_TASKS_CELERY: t.Any = None
#: The Celery queue legs are sent to; ``None``: Celery's default queue.
MCP_TASKS_CELERY_QUEUE: str | None = None
#: Another executor (RQ, a cloud queue): ``"package.module:factory"`` (or
#: the callable), called with the app's ``TaskService``; wins over Celery.
MCP_TASKS_EXECUTOR: t.Any = None
#: Legs a web process runs at once with the thread executor; more wait.
MCP_TASKS_THREADS = 4
#: Seconds a task is kept from its creation (its ``ttlMs``).
MCP_TASKS_TTL = 3600
#: The longest lifetime a 2025-11-25 client may ask for, in seconds.
MCP_TASKS_MAX_TTL = 86400
#: Milliseconds clients are asked to wait between polls (``pollIntervalMs``).
MCP_TASKS_POLL_INTERVAL_MS = 1000
#: Seconds the process running a leg may go without renewing its lease
#: before the task is failed as lost (a worker killed, a host gone).
MCP_TASKS_LEASE = 30.0
#: Seconds before the broker hands an unacknowledged leg to another Celery
#: worker (Redis and SQS brokers); at least ``MCP_TASKS_LEASE``.
MCP_TASKS_VISIBILITY_TIMEOUT = 3600.0
#: Largest result a task keeps, in bytes of JSON; a larger one fails it.
MCP_TASKS_MAX_RESULT = 16 * 1024 * 1024
#: Active tasks (``working`` or ``input_required``) one authenticated
#: principal may have at once, counted in the shared store across workers
#: and hosts; past it, creating a task answers HTTP 429 with ``Retry-After``
#: (JSON-RPC -32029). ``0``: no cap. Plain calls are not counted.
MCP_TASKS_PER_PRINCIPAL = 32

DEFAULTS: dict[str, t.Any] = {
    name: value for name, value in globals().items() if name.startswith("MCP_")
}


@dataclass(frozen=True)
class Settings:
    """The ``MCP_*`` values one server runs with, read once at ``init_app``."""

    path: str
    store_url: str | None
    allowed_hosts: tuple[str, ...] | None
    allowed_origins: tuple[str, ...] | None
    max_body: int
    page_size: int
    session_ttl: float
    stateless: bool
    request_timeout: float
    stream_hold: float
    retry_ms: int
    event_ttl: float
    mask_errors: bool
    listen_hold: float
    request_state_ttl: float
    cache_list_ttl_ms: int
    cache_read_ttl_ms: int
    cache_scope: str | None
    auth_challenge: str | None
    keepalive_interval: float
    lease_interval: float
    hold_max: float
    holds_per_principal: int
    holds_per_address: int
    batch_max_items: int
    batch_timeout: float

    @classmethod
    def from_config(
        cls, config: t.Mapping[str, t.Any], *, path: str | None = None
    ) -> Settings:
        """Read and check the settings; an explicit ``path`` wins over ``MCP_PATH``.

        :raises ValueError: naming the key whose value cannot be used.
        """

        def number(key: str, kind: type[int] | type[float], minimum: float) -> t.Any:
            return read_number(config, key, kind, minimum)

        def hosts(key: str) -> tuple[str, ...] | None:
            value = config.get(key, DEFAULTS[key])
            if value is None:
                return None
            if isinstance(value, str):
                value = [v.strip() for v in value.split(",") if v.strip()]
            if not all(isinstance(v, str) for v in value):
                raise ValueError(f"{key} must be a list of strings, not {value!r}")
            return tuple(value)

        chosen = path or config.get("MCP_PATH", MCP_PATH)
        if not isinstance(chosen, str) or not chosen.startswith("/"):
            raise ValueError(f"MCP_PATH must start with '/', not {chosen!r}")
        return cls(
            path=chosen,
            store_url=config.get("MCP_STORE_URL"),
            allowed_hosts=hosts("MCP_ALLOWED_HOSTS"),
            allowed_origins=hosts("MCP_ALLOWED_ORIGINS"),
            max_body=number("MCP_MAX_BODY", int, 1),
            page_size=number("MCP_PAGE_SIZE", int, 1),
            session_ttl=number("MCP_SESSION_TTL", float, 1),
            stateless=bool(config.get("MCP_STATELESS", MCP_STATELESS)),
            request_timeout=number("MCP_REQUEST_TIMEOUT", float, 0.1),
            stream_hold=number("MCP_STREAM_HOLD", float, 0),
            retry_ms=number("MCP_SSE_RETRY_MS", int, 0),
            event_ttl=number("MCP_EVENT_TTL", float, 1),
            mask_errors=bool(config.get("MCP_MASK_ERRORS", MCP_MASK_ERRORS)),
            listen_hold=number("MCP_LISTEN_HOLD", float, 0),
            request_state_ttl=number("MCP_REQUEST_STATE_TTL", float, 1),
            cache_list_ttl_ms=number("MCP_CACHE_LIST_TTL_MS", int, 0),
            cache_read_ttl_ms=number("MCP_CACHE_READ_TTL_MS", int, 0),
            cache_scope=_scope(config.get("MCP_CACHE_SCOPE", MCP_CACHE_SCOPE)),
            auth_challenge=config.get("MCP_AUTH_CHALLENGE", MCP_AUTH_CHALLENGE),
            keepalive_interval=number("MCP_KEEPALIVE_INTERVAL", float, 0.01),
            lease_interval=number("MCP_LEASE_INTERVAL", float, 0.01),
            hold_max=number("MCP_HOLD_MAX", float, 0),
            holds_per_principal=number("MCP_HOLDS_PER_PRINCIPAL", int, 0),
            holds_per_address=number("MCP_HOLDS_PER_ADDRESS", int, 0),
            batch_max_items=number("MCP_BATCH_MAX_ITEMS", int, 1),
            batch_timeout=number("MCP_BATCH_TIMEOUT", float, 0),
        )


def read_number(
    config: t.Mapping[str, t.Any],
    key: str,
    kind: type[int] | type[float],
    minimum: float,
) -> t.Any:
    """``config[key]`` (or its default) as ``kind``, at least ``minimum``.

    :raises ValueError: naming the key, for a value that is not such a number.
    """
    value = config.get(key, DEFAULTS[key])
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ValueError(f"{key} must be a number, not {value!r}") from None
    if number < minimum:
        raise ValueError(f"{key} must be at least {minimum}, not {value!r}")
    return number


def _scope(value: t.Any) -> str | None:
    if value not in (None, "public", "private"):
        raise ValueError(
            f"MCP_CACHE_SCOPE must be 'public' or 'private', not {value!r}"
        )
    return t.cast("str | None", value)
