"""The connection of one fetch: resolved once, checked, pinned, cut in time.

:class:`GuardedAdapter` is a ``requests`` adapter whose https connections
come from a :class:`Guard`:

* the host name is resolved once; if any of its addresses is refused by the
  :class:`~.addresses.AddressPolicy`, nothing is connected (:class:`Refused`);
* the connection goes to one of those very addresses, so a rebinding DNS
  server cannot answer a second lookup differently; the address actually
  connected to (``getpeername``) is checked again;
* urllib3 then runs TLS over that socket for the host *name* (SNI,
  certificate check, ``Host``), as it would have;
* a watchdog (:meth:`Guard.watch`) shuts the connections down when the
  fetch's time is up, however slowly the server trickles its answer.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import typing as t

from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import ConnectTimeoutError
from urllib3.exceptions import NameResolutionError
from urllib3.exceptions import NewConnectionError
from urllib3.poolmanager import PoolManager

from ....errors import FlaskMCPError
from .addresses import AddressPolicy

#: Addresses of one host name tried at the most.
MAX_ADDRESSES = 4


class Refused(FlaskMCPError):
    """A refusal of the fetch itself (not a network failure)."""


class Guard:
    """One fetch's connections: resolved and checked, cut at the deadline."""

    def __init__(self, policy: AddressPolicy, timeout: float) -> None:
        self.policy = policy
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def connect(self, host: str, port: int) -> socket.socket:
        """A TCP connection to an allowed address of ``host``.

        :raises Refused: when any address of ``host`` is not allowed.
        :raises OSError: when none of them answers.
        """
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        for info in infos:
            reason = self.policy.refusal(host, str(info[4][0]))
            if reason:
                raise Refused(
                    f"its host resolves to a {reason} address, which this server"
                    " does not fetch"
                )
        error: OSError = OSError(f"{host} has no address")
        for family, kind, proto, _, address in infos[:MAX_ADDRESSES]:
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no time left to connect to {host}")
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(remaining)
                sock.connect(address)
                self._check_peer(host, sock, address)
            except OSError as failed:
                sock.close()
                error = failed
                continue
            except Refused:
                sock.close()
                raise
            self._watch(sock)
            return sock
        raise error

    def _check_peer(self, host: str, sock: socket.socket, address: t.Any) -> None:
        peer = sock.getpeername()[0]
        reason = self.policy.refusal(host, str(peer))
        if peer != address[0] or reason:
            raise Refused(f"it was reached at a {reason or 'different'} address")

    def _watch(self, sock: socket.socket) -> None:
        # A duplicate of the descriptor: TLS wrapping detaches the original.
        with self._lock:
            self._sockets.append(sock.dup())
            if self.expired:
                self._cut()

    def _cut(self) -> None:
        for sock in self._sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            self._cut()

    @contextlib.contextmanager
    def watch(self) -> t.Iterator[None]:
        """While inside, connections are cut when ``timeout`` has passed;
        on leaving, they are closed."""
        timer = threading.Timer(self.deadline - time.monotonic(), self._expire)
        timer.daemon = True
        timer.start()
        try:
            yield
        finally:
            timer.cancel()
            with self._lock:
                for sock in self._sockets:
                    sock.close()
                self._sockets.clear()


class _GuardedConnection(HTTPSConnection):
    """urllib3's https connection, its socket from :meth:`Guard.connect`."""

    def __init__(self, *args: t.Any, guard: Guard, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.guard = guard

    def _new_conn(self) -> socket.socket:
        try:
            return self.guard.connect(self._dns_host, self.port)
        except TimeoutError as error:
            message = f"connecting to {self.host} timed out"
            raise ConnectTimeoutError(self, message) from error
        except socket.gaierror as error:
            raise NameResolutionError(self.host, self, error) from error
        except OSError as error:
            raise NewConnectionError(self, f"connecting failed: {error}") from error


class _GuardedPoolManager(PoolManager):
    """Pools whose connections all come from one :class:`Guard`."""

    def __init__(self, guard: Guard, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.guard = guard

    def _new_pool(
        self,
        scheme: str,
        host: str,
        port: int,
        request_context: dict[str, t.Any] | None = None,
    ) -> HTTPConnectionPool:
        pool = super()._new_pool(scheme, host, port, request_context)
        pool.ConnectionCls = _GuardedConnection
        pool.conn_kw["guard"] = self.guard
        return pool


class GuardedAdapter(HTTPAdapter):
    """A ``requests`` adapter connecting through ``guard`` (one fetch's),
    without retries."""

    def __init__(self, guard: Guard) -> None:
        self.guard = guard
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **kwargs: t.Any
    ) -> None:
        self.poolmanager = _GuardedPoolManager(
            self.guard, num_pools=connections, maxsize=maxsize, block=block, **kwargs
        )
