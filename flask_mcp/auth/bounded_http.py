"""Calls to upstream servers with two bounds each: one deadline for the whole
call and a size cap on the answer.

``requests``' ``timeout`` bounds each socket operation, not the call: a server
that sends a few bytes every half second holds ``timeout=2`` for as long as it
likes, and a body is read whole, however large. Every call this library makes
to an authorization server (token, userinfo, revocation, introspection,
discovery, JWK Set, token exchange) goes through a session that
:func:`bounded_session` prepared:

* :class:`Deadline` is a watchdog: the sockets of a call are shut down when
  its time is up, in whatever phase (TLS, headers, body) the call is;
* :class:`BoundedAdapter` gives each request such a deadline (its
  ``timeout``, or the sum of a ``(connect, read)`` pair) and reads the body
  itself, streamed, refused past ``max_bytes``.

A call over either bound raises :class:`DeadlineExceeded` (a
:class:`requests.Timeout`) or :class:`AnswerTooLarge` (a
:class:`requests.RequestException`), so every caller's existing mapping of
request failures onto its own errors holds. The CIMD fetcher's guard is a
:class:`Deadline` too, and reads with :func:`read_capped`.
"""

from __future__ import annotations

import contextvars
import functools
import socket
import typing as t

import requests
from requests.adapters import HTTPAdapter
from urllib3.poolmanager import PoolManager

from ..errors import FlaskMCPError
from .deadline import Deadline as Deadline

#: Token endpoint answers (also token exchange and introspection): a few
#: kilobytes, tens with large ID tokens.
TOKEN_ANSWER_BYTES = 256 * 1024
#: Userinfo and provider API answers (a user, a list of e-mail addresses).
API_ANSWER_BYTES = 1 << 20

_CHUNK = 16 * 1024

#: The deadline of the call this thread is making through a BoundedAdapter.
_CURRENT: contextvars.ContextVar[Deadline | None] = contextvars.ContextVar(
    "flask_mcp_upstream_deadline", default=None
)


class DeadlineExceeded(FlaskMCPError, requests.Timeout):
    """The call did not end within its deadline."""


class AnswerTooLarge(FlaskMCPError, requests.RequestException):
    """The answer was larger than the call allows."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the answer is larger than {limit} bytes")
        self.limit = limit


def read_capped(response: requests.Response, limit: int) -> bytes:
    """The body of a streamed ``response``, refused past ``limit`` bytes
    (declared or read).

    :raises AnswerTooLarge: when the body is larger.
    """
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise AnswerTooLarge(limit)
    body = bytearray()
    for chunk in response.iter_content(_CHUNK):
        body += chunk
        if len(body) > limit:
            raise AnswerTooLarge(limit)
    return bytes(body)


class _Tracked:
    """A mixin of urllib3 connections: their sockets are tracked by the
    deadline of the call in progress, new or reused."""

    sock: socket.socket | None
    _tracked_by: Deadline | None = None

    def _new_conn(self) -> socket.socket:
        sock: socket.socket = super()._new_conn()  # type: ignore[misc]
        self._track(sock)
        return sock

    def request(self, *args: t.Any, **kwargs: t.Any) -> None:
        if self.sock is not None:
            self._track(self.sock)
        super().request(*args, **kwargs)  # type: ignore[misc]

    def _track(self, sock: socket.socket) -> None:
        deadline = _CURRENT.get()
        if deadline is not None and self._tracked_by is not deadline:
            deadline.track(sock)
            self._tracked_by = deadline


@functools.cache
def _tracking(pool_class: type[t.Any]) -> type[t.Any]:
    """``pool_class`` (HTTP, HTTPS, SOCKS...) with tracked connections."""
    connection = type(
        f"Tracked{pool_class.ConnectionCls.__name__}",
        (_Tracked, pool_class.ConnectionCls),
        {},
    )
    return type(
        f"Tracked{pool_class.__name__}", (pool_class,), {"ConnectionCls": connection}
    )


def _track_pools(manager: PoolManager) -> PoolManager:
    manager.pool_classes_by_scheme = {
        scheme: _tracking(pool)
        for scheme, pool in manager.pool_classes_by_scheme.items()
    }
    return manager


class BoundedAdapter(HTTPAdapter):
    """A ``requests`` adapter whose every request ends within its timeout
    and reads at most ``max_bytes`` of body (``stream=True`` is ignored: the
    body is read, and bounded, before :meth:`send` returns).

    :param max_bytes: the largest body accepted.
    :param timeout: the deadline of a request sent without one.
    """

    def __init__(self, max_bytes: int, *, timeout: float = 10.0) -> None:
        self.max_bytes = max_bytes
        self.timeout = timeout
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        _track_pools(self.poolmanager)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: t.Any) -> PoolManager:
        return _track_pools(super().proxy_manager_for(proxy, **proxy_kwargs))

    def send(  # type: ignore[override]
        self,
        request: requests.PreparedRequest,
        stream: bool = False,
        timeout: float | tuple[float, float] | None = None,
        **kwargs: t.Any,
    ) -> requests.Response:
        seconds = _seconds(timeout) or self.timeout
        # No compressed answers: the cap is on what arrives, not a bomb's yield.
        request.headers["Accept-Encoding"] = "identity"
        deadline = Deadline(seconds)
        current = _CURRENT.set(deadline)
        try:
            with deadline.watch():
                try:
                    response = super().send(
                        request, stream=True, timeout=seconds, **kwargs
                    )
                    with response:
                        body = read_capped(response, self.max_bytes)
                except (requests.RequestException, OSError):
                    if deadline.expired:
                        raise DeadlineExceeded(
                            _late(seconds), request=request
                        ) from None
                    raise
                if deadline.expired:  # a close-delimited body cut short
                    raise DeadlineExceeded(_late(seconds), request=request)
        finally:
            _CURRENT.reset(current)
        response._content = body  # what requests keeps of a read body
        return response


def bounded_session(
    max_bytes: int, session: requests.Session | None = None
) -> requests.Session:
    """``session`` (a new one by default) with :class:`BoundedAdapter`\\ s
    mounted for ``http://`` and ``https://``: its other settings (proxies,
    ``verify``, headers) stay; adapters mounted for longer prefixes win."""
    session = session if session is not None else requests.Session()
    for prefix in ("https://", "http://"):
        session.mount(prefix, BoundedAdapter(max_bytes))
    return session


def _seconds(timeout: float | tuple[float, float] | None) -> float | None:
    if isinstance(timeout, tuple):
        return sum(part for part in timeout if part is not None) or None
    return timeout


def _late(seconds: float) -> str:
    return f"no complete answer within {seconds:g} s"
