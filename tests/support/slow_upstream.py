"""Upstream servers that misbehave at the HTTP level, on 127.0.0.1, from
threads of the test: one that drips its answer (head or body) a few bytes at
a time, one that answers megabytes.

``requests``' ``timeout`` bounds each read, so a drip never trips it; these
servers show that a call's deadline and size cap hold whatever the answer
does. Every request is answered the same way, at any path, and counted
(the fixtures ``dripping_upstream`` and ``huge_upstream`` are registered by
the conftest.py of the folders that use them)::

    with SlowUpstream(drip_body(b'{"access_token": "x"}')) as server:
        ...  # call server.url + "/token"
"""

from __future__ import annotations

import socket
import socketserver
import threading
import time
import typing as t

import pytest

from .tiers import needs

__all__ = [
    "DEADLINE",
    "MARGIN",
    "SlowUpstream",
    "drip_body",
    "drip_head",
    "dripping_upstream",
    "huge",
    "huge_upstream",
    "small",
    "within_deadline",
]

#: Writes one answer to the connected socket; raises OSError once the
#: client has gone.
Answer = t.Callable[[socket.socket], None]

#: The longest any answer goes on: a test that fails keeps no thread for long.
LONGEST = 30.0


def _head(status: str = "200 OK", length: int | None = None) -> bytes:
    lines = [f"HTTP/1.1 {status}", "Content-Type: application/json"]
    lines.append(
        f"Content-Length: {length}" if length is not None else "Connection: close"
    )
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def _drip(sock: socket.socket, data: bytes, piece: int, every: float) -> None:
    started = time.monotonic()
    for start in range(0, len(data), piece):
        if time.monotonic() - started > LONGEST:
            return
        sock.sendall(data[start : start + piece])
        time.sleep(every)


def drip_head(piece: int = 100, every: float = 0.5) -> Answer:
    """An answer whose status line and headers come ``piece`` bytes every
    ``every`` seconds (a long ``X-Padding`` header), the body never."""
    padding = b"X-Padding: " + b"p" * 100_000 + b"\r\n"
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + padding
    return lambda sock: _drip(sock, head, piece, every)


def drip_body(
    body: bytes = b'{"access_token": "x"}', piece: int = 100, every: float = 0.5
) -> Answer:
    """Headers at once, then ``body`` padded with spaces to 100 kB, dripped:
    each read gets bytes well within any timeout."""
    padded = body + b" " * (100_000 - len(body))

    def answer(sock: socket.socket) -> None:
        sock.sendall(_head(length=len(padded)))
        _drip(sock, padded, piece, every)

    return answer


def small(body: bytes = b'{"access_token": "x"}') -> Answer:
    """``body`` at once, with its length: the connection may be kept."""
    return lambda sock: sock.sendall(_head(length=len(body)) + body)


def huge(size: int = 30 * 1024 * 1024, *, declared: bool = True) -> Answer:
    """A JSON object of ``size`` bytes sent as fast as the client reads, with
    its ``Content-Length`` or (``declared=False``) until the connection
    closes."""
    opening = b'{"access_token": "x", "padding": "'
    closing = b'"}'
    filler = size - len(opening) - len(closing)

    def answer(sock: socket.socket) -> None:
        sock.sendall(_head(length=size if declared else None) + opening)
        block = b"a" * 65536
        for start in range(0, filler, len(block)):
            sock.sendall(block[: min(len(block), filler - start)])
        sock.sendall(closing)

    return answer


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        sock: socket.socket = self.request
        sock.settimeout(5)
        try:
            for answer in (self.server.first, self.server.answer):
                if answer is not None:
                    _read_request(sock)
                    with self.server.lock:
                        self.server.requests += 1
                    answer(sock)
        except OSError:
            pass  # the client gave up: what these servers are for


def _read_request(sock: socket.socket) -> None:
    """Read the head and the body (by ``Content-Length``) of one request."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("no request")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return
        body += chunk


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, answer: Answer, first: Answer | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.answer = answer
        self.first = first
        self.requests = 0
        self.lock = threading.Lock()


@needs("http")
class SlowUpstream:
    """A server on a free port of 127.0.0.1 that answers every request with
    ``answer``, from construction until :meth:`close`; ``url`` is
    ``http://127.0.0.1:PORT`` and ``requests`` counts what it was asked.
    With ``first``, the first request of each connection gets that answer
    (give it a length: the connection is kept) and the next one ``answer``."""

    def __init__(self, answer: Answer, first: Answer | None = None) -> None:
        self._server = _Server(answer, first)
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.01,), daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def requests(self) -> int:
        return self._server.requests

    def close(self) -> None:
        """Stop serving; answers under way end when their client has gone."""
        if self._thread.is_alive():
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(5)

    def __enter__(self) -> SlowUpstream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


#: The timeout the bounded calls are given in tests.
DEADLINE = 2.0
#: How late a call may end past its deadline on a loaded machine.
MARGIN = 0.75


def within_deadline(started: float) -> None:
    """Fail unless now is at ``started`` + :data:`DEADLINE`, within the margin."""
    elapsed = time.monotonic() - started
    assert DEADLINE - 0.05 <= elapsed < DEADLINE + MARGIN, elapsed


@pytest.fixture(params=["drip body", "drip head"], scope="module")
def dripping_upstream(request: pytest.FixtureRequest) -> t.Iterator[SlowUpstream]:
    """A server that drips its answer's body, then one that drips its head."""
    answer = drip_body() if request.param == "drip body" else drip_head()
    with SlowUpstream(answer) as server:
        yield server


@pytest.fixture(params=["30 MB declared", "30 MB undeclared"], scope="module")
def huge_upstream(request: pytest.FixtureRequest) -> t.Iterator[SlowUpstream]:
    """A server answering 30 MB with its length, then one without."""
    with SlowUpstream(huge(declared=request.param == "30 MB declared")) as server:
        yield server
