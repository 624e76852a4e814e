"""Errors of the shared store.

The transport answers :class:`StoreUnavailable` with 503 and ``Retry-After``
(a JSON-RPC error on the MCP endpoint, ``temporarily_unavailable`` on OAuth
views): the request may succeed once the store is back, and no restart is
needed for that.
"""

from __future__ import annotations

from ..errors import FlaskMCPError


class StoreError(FlaskMCPError):
    """Base class of the store's errors."""


class StoreUnavailable(StoreError):
    """The store cannot answer now: down, frozen past its timeout, or unable
    to write (disk full, read-only, I/O error).

    Backends raise it for every such failure; :class:`~flask_mcp.store.Store`
    also turns an :class:`OSError` escaping a backend into it.

    :param unreachable: the backend cannot be reached at all (refused, reset,
        no answer within the timeout), so every kind of operation would fail,
        and slowly. The store then fails fast until a background probe finds
        it back (see :mod:`flask_mcp.store.health`). ``False`` for a failure
        of one kind of operation (a full disk refuses writes, reads work).
    """

    def __init__(self, message: str = "", *, unreachable: bool = False) -> None:
        super().__init__(message)
        self.unreachable = unreachable


class LockTimeout(StoreUnavailable):
    """A :meth:`Store.lock <flask_mcp.store.Store.lock>` was not acquired in
    time: another process holds it. The store itself works, so this does not
    count as an outage; a request that needs the lock may be retried later.

    :param name: the lock's name.
    :param timeout: the seconds waited.
    """

    def __init__(self, name: str, timeout: float) -> None:
        super().__init__(
            f"lock {name!r} is held elsewhere; not acquired within {timeout:g} s"
        )
        self.name = name
        self.timeout = timeout
