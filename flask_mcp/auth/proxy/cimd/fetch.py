"""Fetch a small JSON document from an attacker-chosen https URL, safely.

:class:`Fetcher` is ``requests`` with every door closed that such a URL
could open (CIMD draft section 6):

* https only, no redirects (a 3xx is refused: its target was not checked),
  no proxies or ``.netrc`` from the environment, ``Accept-Encoding:
  identity``; certificates are verified as ``requests`` does, so
  ``REQUESTS_CA_BUNDLE`` (or ``CURL_CA_BUNDLE``) names the trusted CAs;
* the host name is resolved once; if any of its addresses is not public
  (:class:`~.addresses.AddressPolicy`) nothing is fetched; otherwise the
  connection goes to one of those very addresses (no second lookup that a
  rebinding DNS server could answer differently), and the address actually
  connected to is checked again. TLS still names the host (SNI, certificate
  check, ``Host``);
* ``timeout`` bounds the connection and the whole exchange: a watchdog cuts
  the connection when it ends, however slowly the answer trickles in;
* the body is read in a streaming way and refused past ``max_size`` bytes;
  it must be ``application/json`` (or ``application/*+json``) holding a JSON
  object.

How long the document may be kept follows its ``Cache-Control``
(``s-maxage``, ``max-age``, less ``Age``) or ``Expires``, within
``min_cache`` and ``max_cache``.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import typing as t
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import requests
from authlib.oauth2.rfc7591 import InvalidClientMetadataError
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool
from urllib3.exceptions import ConnectTimeoutError
from urllib3.exceptions import NameResolutionError
from urllib3.exceptions import NewConnectionError
from urllib3.poolmanager import PoolManager

from ..client_metadata import parse_json_object
from .addresses import AddressPolicy
from .options import CIMDOptions

__all__ = ["FetchError", "Fetched", "Fetcher"]

#: Addresses of one host name tried at the most.
MAX_ADDRESSES = 4
_CHUNK = 1024


class FetchError(Exception):
    """The document could not be fetched, or was refused; the message says
    why and is safe to show to the client."""


@dataclass(frozen=True)
class Fetched:
    """A fetched JSON object and the seconds it may be kept."""

    data: dict[str, t.Any]
    lifetime: int


class Fetcher:
    """Fetches JSON documents under the rules of the module docstring."""

    def __init__(self, options: CIMDOptions) -> None:
        self.options = options
        self.policy = AddressPolicy(options)

    def fetch_json(self, url: str) -> Fetched:
        """The JSON object at ``url``.

        :raises FetchError: when it cannot be fetched or is refused.
        """
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise FetchError("only https URLs are fetched")
        guard = _Guard(self.policy, self.options.timeout)
        with requests.Session() as session:
            # No proxy, .netrc or CA settings from the environment (the
            # address check needs the direct connection); the CA bundle
            # variables are honoured as requests does (verify below).
            session.trust_env = False
            session.mount("https://", _GuardedAdapter(guard))
            try:
                with guard.watch():
                    return self._get(session, url)
            except _Refused as refused:
                raise FetchError(str(refused)) from None
            except (requests.RequestException, OSError) as error:
                if guard.expired:
                    raise FetchError(
                        f"it did not answer within {self.options.timeout:g} seconds"
                    ) from None
                raise FetchError(_reason(error)) from None

    def _get(self, session: requests.Session, url: str) -> Fetched:
        timeout = self.options.timeout
        response = session.get(
            url,
            allow_redirects=False,
            stream=True,
            timeout=(timeout, timeout),
            verify=_ca_bundle(),
            headers={"Accept": "application/json", "Accept-Encoding": "identity"},
        )
        with response:
            if 300 <= response.status_code < 400:
                raise _Refused(f"it answered with a redirect ({response.status_code})")
            if response.status_code != 200:
                raise _Refused(f"it answered HTTP {response.status_code}")
            media = response.headers.get("Content-Type", "").partition(";")[0]
            media = media.strip().lower()
            if media != "application/json" and not (
                media.startswith("application/") and media.endswith("+json")
            ):
                raise _Refused(f"it is not JSON (Content-Type {media or 'missing'!r})")
            body = self._body(response)
        try:
            data = parse_json_object(body)
        except InvalidClientMetadataError as error:
            raise _Refused(f"it is not acceptable JSON: {error.description}") from None
        if data is None:
            raise _Refused("it is not a JSON object")
        return Fetched(data, self.lifetime(response.headers))

    def _body(self, response: requests.Response) -> bytes:
        limit = self.options.max_size
        too_large = _Refused(f"it is larger than {limit} bytes")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        for chunk in response.iter_content(_CHUNK):
            body += chunk
            if len(body) > limit:
                raise too_large
        return bytes(body)

    def lifetime(self, headers: t.Mapping[str, str]) -> int:
        """Seconds a response with ``headers`` may be kept, within the
        configured bounds."""
        low, high = self.options.min_cache, self.options.max_cache
        fresh = _freshness(headers)
        return low if fresh is None else max(low, min(high, int(fresh)))


def _freshness(headers: t.Mapping[str, str]) -> float | None:
    """Seconds of freshness the headers give (:rfc:`9111#section-4.2.1`),
    ``None`` without any (or for ``no-store`` / ``no-cache``)."""
    directives: dict[str, str] = {}
    for item in headers.get("Cache-Control", "").split(","):
        name, _, value = item.strip().partition("=")
        directives[name.strip().lower()] = value.strip().strip('"')
    if "no-store" in directives or "no-cache" in directives:
        return None
    age = headers.get("Age", "")
    for name in ("s-maxage", "max-age"):
        if directives.get(name, "").isdigit():
            return int(directives[name]) - (int(age) if age.isdigit() else 0)
    expires = headers.get("Expires")
    if expires:
        try:
            return parsedate_to_datetime(expires).timestamp() - time.time()
        except (TypeError, ValueError):
            return 0.0  # an invalid date means "already expired"
    return None


def _ca_bundle() -> str | bool:
    """What ``requests`` verifies with when it reads the environment."""
    return (
        os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
    )


def _reason(error: BaseException) -> str:
    """A short, safe description of a failed request."""
    if isinstance(error, requests.exceptions.SSLError):
        return "its TLS certificate was not accepted"
    if isinstance(error, requests.exceptions.ConnectTimeout):
        return "the connection timed out"
    if isinstance(error, requests.exceptions.ConnectionError):
        cause: BaseException | None = error
        while cause is not None:
            if isinstance(cause, NameResolutionError):
                return "its host name does not resolve"
            cause = cause.__cause__ or cause.__context__
        return "the connection failed"
    return "the request failed"


class _Refused(Exception):
    """A refusal of the fetch itself (not a network failure)."""


class _Guard:
    """One fetch's connections: resolved and checked, cut at the deadline."""

    def __init__(self, policy: AddressPolicy, timeout: float) -> None:
        self.policy = policy
        self.timeout = timeout
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def connect(self, host: str, port: int) -> socket.socket:
        """A TCP connection to an allowed address of ``host``.

        :raises _Refused: when any address of ``host`` is not allowed.
        :raises OSError: when none of them answers.
        """
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        for info in infos:
            reason = self.policy.refusal(host, str(info[4][0]))
            if reason:
                raise _Refused(
                    f"its host resolves to a {reason} address, which this server"
                    " does not fetch"
                )
        error: OSError = OSError(f"{host} has no address")
        for family, kind, proto, _, address in infos[:MAX_ADDRESSES]:
            if self.expired:
                break
            sock = socket.socket(family, kind, proto)
            try:
                sock.settimeout(self.timeout)
                sock.connect(address)
                self._check_peer(host, sock, address)
            except OSError as failed:
                sock.close()
                error = failed
                continue
            except _Refused:
                sock.close()
                raise
            self._watch(sock)
            return sock
        raise error

    def _check_peer(self, host: str, sock: socket.socket, address: t.Any) -> None:
        peer = sock.getpeername()[0]
        reason = self.policy.refusal(host, str(peer))
        if peer != address[0] or reason:
            raise _Refused(f"it was reached at a {reason or 'different'} address")

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

    def watch(self) -> t.ContextManager[None]:
        """While inside, connections are cut when ``timeout`` has passed."""
        return _Watchdog(self)

    def close(self) -> None:
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()


class _Watchdog:
    def __init__(self, guard: _Guard) -> None:
        self.guard = guard
        self.timer = threading.Timer(guard.timeout, guard._expire)
        self.timer.daemon = True

    def __enter__(self) -> None:
        self.timer.start()

    def __exit__(self, *exc_info: object) -> None:
        self.timer.cancel()
        self.guard.close()


class _GuardedConnection(HTTPSConnection):
    """urllib3's https connection, its socket from :meth:`_Guard.connect`."""

    def __init__(self, *args: t.Any, guard: _Guard, **kwargs: t.Any) -> None:
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
    def __init__(self, guard: _Guard, **kwargs: t.Any) -> None:
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


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, guard: _Guard) -> None:
        self.guard = guard
        super().__init__(max_retries=0)

    def init_poolmanager(
        self, connections: int, maxsize: int, block: bool = False, **kwargs: t.Any
    ) -> None:
        self.poolmanager = _GuardedPoolManager(
            self.guard, num_pools=connections, maxsize=maxsize, block=block, **kwargs
        )
