"""Rate limits per caller, per tool and by default, on Flask-Limiter.

Every request message is checked by :meth:`RateLimits.check` where the
endpoint runs it (both protocol eras, batches item by item): first against
``MCP_RATE_LIMIT``, then against the tool's own ``rate_limit``. A caller is
its principal (the identity ``authenticate`` returned, hashed), else its
address (:func:`~flask_mcp.addresses.client_key`: IPv6 by /64). Over a
limit the answer is :func:`~flask_mcp.transport.responses.too_many_requests`:
HTTP 429, ``Retry-After`` and JSON-RPC ``RATE_LIMITED``.

Counters live where Flask-Limiter keeps them (its ``limits`` storage): by
default on the store's Redis, so every worker of every host counts against
one limit; ``memory://`` (one process) otherwise.

When the counters' storage fails, requests go through (**fail open**): a
limiter outage must not become a service outage, and the store, which the
requests need anyway, answers 503 by itself when it is the same Redis. One
warning is logged per outage and one line when the limits work again; in
between the storage is tried once every :data:`RETRY_INTERVAL` seconds, so
a frozen Redis does not add its timeout to every request.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
import typing as t
from urllib.parse import parse_qsl
from urllib.parse import urlencode
from urllib.parse import urlsplit

from .. import signals
from ..addresses import client_key
from ..protocol.call import Call
from ..protocol.jsonrpc import Request as RpcRequest
from ..transport.responses import too_many_requests

if t.TYPE_CHECKING:
    from flask import Flask
    from flask_limiter import Limiter
    from limits import RateLimitItem
    from werkzeug.wrappers import Request

    from ..components.registry import Registry


log = logging.getLogger(__name__)

#: Seconds between attempts to reach a failed counter storage.
RETRY_INTERVAL = 5.0

#: Query keys of a store URL that are flask_mcp's, not redis-py's
#: (:mod:`flask_mcp.store.backends.redis_urls`).
_STORE_OPTIONS = frozenset({"replicas", "replica_timeout"})


def storage_uri(configured: str | None, store_url: str | None) -> str:
    """Where the counters live: ``MCP_RATE_LIMIT_STORAGE_URI``, else the
    store's Redis, else this process's memory.

    :raises ValueError: for a Sentinel or Cluster store, whose URLs
        Flask-Limiter reads otherwise (or not at all).
    """
    if configured:
        return configured
    if not store_url:
        return "memory://"
    scheme = urlsplit(store_url).scheme
    if scheme in {"redis", "rediss", "unix"}:
        return _limits_url(store_url)
    if scheme.startswith(("redis+", "rediss+")):
        raise ValueError(
            f"MCP_STORE_URL is a {scheme}:// store, whose URL the rate limits"
            " cannot use: set MCP_RATE_LIMIT_STORAGE_URI to a Flask-Limiter"
            " storage URI for their counters"
        )
    return "memory://"


def _limits_url(store_url: str) -> str:
    """A one-server store URL as ``limits`` reads it."""
    base, _, query = store_url.partition("?")
    kept = urlencode(
        [
            (key, value)
            for key, value in parse_qsl(query, keep_blank_values=True)
            if key not in _STORE_OPTIONS
        ]
    )
    url = f"{base}?{kept}" if kept else base
    return "redis+" + url if url.startswith("unix:") else url


def build_limiter(
    app: Flask, uri: str, strategy: str, timeout: float
) -> Limiter | None:
    """A Flask-Limiter for the MCP limits, or ``None`` when the app turned
    Flask-Limiter off (``RATELIMIT_ENABLED = False``).

    Flask-Limiter reads its configuration and builds the storage and the
    strategy; it limits no route itself: MCP limits are per message, not
    per HTTP request, and are counted by :class:`RateLimits`.

    :raises ValueError: for a storage URI or strategy Flask-Limiter refuses.
    """
    try:
        from flask_limiter import Limiter
        from limits.errors import ConfigurationError
    except ImportError:
        raise ValueError(
            "MCP_RATE_LIMIT and rate_limit= need Flask-Limiter:"
            " pip install 'flask-mcp[limits]'"
        ) from None
    options: dict[str, t.Any] = {}
    if uri.startswith("redis"):
        options = {"socket_timeout": timeout, "socket_connect_timeout": timeout}
    limiter = Limiter(
        key_func=lambda: "",
        storage_uri=uri,
        storage_options=options,
        strategy=strategy,
        headers_enabled=False,
        swallow_errors=True,
    )
    limiter.request_filter(lambda: True)
    before = {name: list(getattr(app, name).get(None, ())) for name in _HOOKS}
    try:
        limiter.init_app(app)
    except (ConfigurationError, ValueError) as error:
        raise ValueError(f"rate limits: {error}") from None
    # NOTE: init_app hooks every request of the app to check route limits;
    # this limiter has none, and its hooks would cost each request more
    # than counting its message does: they are taken off again.
    for name in _HOOKS:
        hooks = getattr(app, name).get(None)
        if hooks is not None:
            hooks[:] = [hook for hook in hooks if hook in before[name]]
    if not limiter.enabled:
        log.info("RATELIMIT_ENABLED is False: MCP rate limits are off")
        return None
    return limiter


#: The app's request hooks Flask-Limiter's ``init_app`` adds to.
_HOOKS = ("before_request_funcs", "after_request_funcs", "teardown_request_funcs")


class RateLimits:
    """The rate limits of one server: the endpoint's
    :class:`~flask_mcp.transport.endpoint.MessageLimiter`.

    :param limiter: the Flask-Limiter whose strategy and storage count.
    :param default: ``MCP_RATE_LIMIT``, parsed.
    :param registry: the server's components (for each tool's own limit).
    :param scope: separates this server's counters from other servers'.
    """

    def __init__(
        self,
        limiter: Limiter,
        default: t.Sequence[RateLimitItem],
        registry: Registry,
        scope: str,
    ) -> None:
        self.limiter = limiter
        self.default = tuple(default)
        self.registry = registry
        self.scope = scope
        self._retry_at = 0.0
        self._down = False
        self._mutex = threading.Lock()

    @property
    def needed(self) -> bool:
        """Whether any limit applies (a default, or a tool's own)."""
        return bool(self.default) or any(
            tool.rate_limit for tool in self.registry.tools.values()
        )

    def check(self, request: Request, message: RpcRequest, call: Call) -> None:
        """Count the message; over a limit, raise 429.

        :raises HTTPError: ``too_many_requests``.
        """
        if self._down and not self._may_retry():
            return  # failing open until the next attempt
        caller = call.principal or f"address:{client_key(request.remote_addr)}"
        name = message.params.get("name")
        name = name[:256] if isinstance(name, str) else None
        if self.default:
            self._hit(self.default, "default", name, caller, request, message, call)
            if self._down:
                return  # it failed: the tool's limit would wait for it again
        if message.method == "tools/call" and name is not None:
            tool = self.registry.tools.get(name)
            if tool is not None and tool.rate_limit:
                items = _parsed(tool.rate_limit)
                self._hit(items, "tool", name, caller, request, message, call)

    def _hit(
        self,
        items: t.Sequence[RateLimitItem],
        kind: str,
        name: str | None,
        caller: str,
        request: Request,
        message: RpcRequest,
        call: Call,
    ) -> None:
        strategy = self.limiter.limiter
        # The default limit counts every message alike; a tool's, its calls.
        counted = name if kind == "tool" and name is not None else ""
        identifiers = ("mcp", self.scope, kind, counted, caller)
        for item in items:
            try:
                allowed = strategy.hit(item, *identifiers)
                retry_after = 0.0
                if not allowed:
                    reset = strategy.get_window_stats(item, *identifiers).reset_time
                    retry_after = reset - time.time()
            except Exception as error:
                self._failed(error)
                return
            self._worked()
            if allowed:
                continue
            limit = f"{item.amount} per {item.multiples} {item.GRANULARITY.name}"
            if signals.limit_refused.receivers:
                signals.limit_refused.send(
                    _app(),
                    refusal=signals.Refusal(
                        kind="limit",
                        reason=kind,
                        status=429,
                        method=message.method,
                        name=name,
                        auth=call.auth,
                        client_address=request.remote_addr,
                        retry_after=retry_after,
                        request_id=message.id,
                        path=request.path,
                    ),
                )
            what = f"the tool {name}" if kind == "tool" else "this server"
            raise too_many_requests(
                retry_after, f"rate limit of {what} ({limit})", message.id
            )

    def _may_retry(self) -> bool:
        """Whether this request tries the failed storage: the first one past
        :attr:`_retry_at` does, and moves it on first, so that the requests
        meanwhile go through at once instead of all waiting on a frozen
        storage together."""
        with self._mutex:
            now = time.monotonic()
            if now < self._retry_at:
                return False
            self._retry_at = now + RETRY_INTERVAL
            return True

    def _failed(self, error: Exception) -> None:
        with self._mutex:
            self._retry_at = time.monotonic() + RETRY_INTERVAL
            if self._down:
                return
            self._down = True
        log.warning(
            "rate limits are not enforced: their storage fails (%s: %s);"
            " requests go through until it answers again",
            type(error).__name__,
            error,
        )

    def _worked(self) -> None:
        if not self._down:
            return
        with self._mutex:
            if not self._down:
                return
            self._down = False
        log.info("rate limits are enforced again: their storage answers")


@functools.lru_cache(maxsize=256)
def _parsed(value: str) -> tuple[RateLimitItem, ...]:
    from limits import parse_many

    return tuple(parse_many(value))


def parse_limits(value: str | None, key: str) -> tuple[RateLimitItem, ...]:
    """``MCP_RATE_LIMIT``, parsed.

    :raises ValueError: naming ``key``, for a string that is not a limit.
    """
    if not value:
        return ()
    try:
        return _parsed(value)
    except ValueError:
        raise ValueError(
            f"{key} {value!r} is not a rate limit; write '<count>/<unit>'"
            " ('20/second'), several separated by ';'"
        ) from None


def _app() -> t.Any:
    from flask import current_app

    return current_app._get_current_object()  # type: ignore[attr-defined]
