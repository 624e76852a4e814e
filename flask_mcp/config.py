"""``MCP_*`` configuration keys and their defaults.

Each is applied with ``app.config.setdefault`` in
:meth:`~flask_mcp.FlaskMCP.init_app`; a key set in the app's config wins.
"""

from __future__ import annotations

import typing as t

#: URL rule of the Streamable HTTP endpoint.
MCP_PATH = "/mcp"
#: Where shared state lives: ``None`` (files in the instance folder, one host),
#: ``redis://host:6379/0``, ``rediss://...`` or ``unix:///path/redis.sock``
#: (several hosts), ``file:///path`` (files in that folder) or ``memory://``
#: (one process: tests only).
MCP_STORE_URL: str | None = None
#: Another store: ``"mypkg.stores:make_backend"`` (or the callable itself),
#: called as ``make_backend(app.config, app.instance_path)`` and returning a
#: :class:`~flask_mcp.store.StoreBackend`. Wins over ``MCP_STORE_URL``.
MCP_STORE_FACTORY: str | None = None
#: Seconds Redis gets to accept a connection and to answer each command; past
#: it the request fails with 503 instead of hanging a worker. Query options in
#: ``MCP_STORE_URL`` (``?socket_timeout=5``) win.
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

DEFAULTS: dict[str, t.Any] = {
    name: value for name, value in globals().items() if name.startswith("MCP_")
}
