"""One deadline for a whole call to another server: :class:`Deadline`.

A socket timeout bounds each read, not the call: a server that sends a byte
every half second holds a ``timeout=2`` call for as long as it likes. A
:class:`Deadline` shuts the call's sockets down when its time is up, in
whatever phase (TLS, headers, body) the call is. It needs neither
``requests`` nor urllib3, so the standard library's fetches use it too
(:mod:`flask_mcp.auth.documents`), as the bounded ``requests`` sessions do
(:mod:`flask_mcp.auth.bounded_http`).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import typing as t


class Deadline:
    """One call's time: the sockets it :meth:`track`\\ s are shut down when
    ``seconds`` have passed since it was made, while :meth:`watch` runs."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self.expired = False
        self._lock = threading.Lock()
        self._sockets: list[socket.socket] = []

    def remaining(self) -> float:
        """Seconds left, at least 0."""
        return max(0.0, self.deadline - time.monotonic())

    def track(self, sock: socket.socket) -> None:
        """Shut ``sock`` down at the deadline (at once if it has passed)."""
        # A duplicate of the descriptor: TLS wrapping detaches the original,
        # and an SSL socket cannot be dup()ed.
        copy = socket.fromfd(sock.fileno(), sock.family, sock.type)
        with self._lock:
            self._sockets.append(copy)
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
        """While inside, tracked sockets are cut when the time is up; on
        leaving, the duplicates are closed (the connections are not)."""
        timer = threading.Timer(self.remaining(), self._expire)
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
