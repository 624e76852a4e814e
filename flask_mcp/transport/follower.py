"""One thread per process follows the bus for every held stream.

Held streams used to poll the store every 50 ms each; a hundred idle
clients cost two thousand store reads a second. Now one thread per bus and
process reads the log (one read per tick while nothing changes), hands each
change to the holds whose channels it is published on, and wakes only
those. The same thread watches the held connections' sockets, so a client
that leaves frees its thread at once instead of at the next keep-alive.

The thread starts with the first hold and stops soon after the last one.
"""

from __future__ import annotations

import logging
import os
import select
import socket
import threading
import time
import typing as t

from ..store import StoreError
from .bus import Change
from .bus import NotificationBus

log = logging.getLogger(__name__)

#: Seconds between looks at the bus while holds wait.
POLL_INTERVAL = 0.05
#: Seconds the thread stays after the last hold ends (cheap restarts).
LINGER = 2.0
#: Seconds a missing entry may block the log before it is skipped (a
#: publisher that died between counting and writing it).
GAP_TIMEOUT = 2.0
#: Missing entries skipped at once; more than that jumps to the newest.
_GAP_PROBE = 64
#: What ends a watched connection: the peer closed or reset it.
_CLOSED = (
    getattr(select, "EPOLLRDHUP", 0)
    | getattr(select, "EPOLLHUP", 0)
    | getattr(select, "EPOLLERR", 0)
)


class Follows(t.Protocol):
    """A hold, as the follower sees it."""

    channels: frozenset[str]
    #: The position its client has everything up to: later changes reach it.
    after: int

    def deliver(self, position: int, change: Change) -> None:
        """A change on one of its channels (called with the follower's lock)."""

    def gone(self) -> None:
        """Its client closed the connection."""

    def fail(self) -> None:
        """The store failed: the bus cannot be followed."""


class Follower:
    """Follows one bus on behalf of this process's holds."""

    def __init__(self, bus: NotificationBus, interval: float = POLL_INTERVAL) -> None:
        self.bus = bus
        self.interval = interval
        self._lock = threading.Lock()
        self._by_channel: dict[str, set[Follows]] = {}
        self._count = 0
        self._sockets: dict[int, Follows] = {}
        self._fds: dict[Follows, int] = {}
        self._position = 0
        self._gap_since: float | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0
        self._poller: t.Any = None

    # -- holds ----------------------------------------------------------------

    def follow(self, hold: Follows, sock: socket.socket | None = None) -> int:
        """Deliver to ``hold`` every change published after the returned
        position; watch ``sock`` for the client leaving.

        :raises StoreError: the store cannot say where the bus is.
        """
        with self._lock:
            if not self._running():
                self._position = self.bus.position()
                self._gap_since = None
                self._start()
            for channel in hold.channels:
                self._by_channel.setdefault(channel, set()).add(hold)
            self._count += 1
            if sock is not None:
                self._watch(sock, hold)
            return self._position

    def unfollow(self, hold: Follows) -> None:
        with self._lock:
            for channel in hold.channels:
                holds = self._by_channel.get(channel)
                if holds is not None and hold in holds:
                    holds.discard(hold)
                    if not holds:
                        del self._by_channel[channel]
            self._count -= 1
            fd = self._fds.pop(hold, None)
            if fd is not None and self._sockets.pop(fd, None) is not None:
                self._forget(fd)

    def locked(self) -> threading.Lock:
        """The lock under which deliveries happen, and :attr:`position` holds."""
        return self._lock

    @property
    def position(self) -> int:
        """The newest position handed to the holds."""
        return self._position

    # -- the thread ---------------------------------------------------------

    def _running(self) -> bool:
        return (
            self._thread is not None
            and self._thread.is_alive()
            and self._pid == os.getpid()  # threads do not survive a fork
        )

    def _start(self) -> None:
        self._pid = os.getpid()
        epoll = getattr(select, "epoll", None)
        self._poller = epoll() if epoll is not None else None
        self._sockets = {}
        self._fds = {}
        self._thread = threading.Thread(
            target=self._run, name="flask_mcp bus follower", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        idle_since: float | None = None
        poller = self._poller
        while True:
            with self._lock:
                if self._count > 0:
                    idle_since = None
                elif idle_since is None:
                    idle_since = time.monotonic()
                elif time.monotonic() - idle_since > LINGER:
                    self._thread = None
                    if poller is not None:
                        poller.close()
                    return
            self._wait(poller)
            try:
                self._advance()
            except StoreError as exc:
                log.debug("bus follower: store failed: %s", exc)
                self._fail_all()

    def _wait(self, poller: t.Any) -> None:
        """Sleep one tick, waking early for a client that left."""
        if poller is None:
            time.sleep(self.interval)
            return
        try:
            events = poller.poll(self.interval)
        except OSError:  # the poller was closed under us: a fork, a restart
            time.sleep(self.interval)
            return
        for fd, _ in events:
            with self._lock:
                hold = self._sockets.pop(fd, None)
                if hold is not None:
                    self._fds.pop(hold, None)
                    self._forget(fd)
            if hold is not None:
                hold.gone()

    def _advance(self) -> None:
        newest = self.bus.position()
        if newest < self._position:
            # The store lost the log (flushed, restarted without data).
            log.warning(
                "the notification log went back from %d to %d; following on",
                self._position,
                newest,
            )
            with self._lock:
                self._position = newest
                # Its holds follow the new log: its next changes are new.
                for holds in self._by_channel.values():
                    for hold in holds:
                        hold.after = min(hold.after, newest)
            return
        if newest == self._position:
            return
        changes = self.bus.changes(self._position, newest)
        with self._lock:
            for position, change in changes:
                self._dispatch(position, change)
        if self._position < newest:
            self._skip_gap(newest)
        else:
            self._gap_since = None

    def _dispatch(self, position: int, change: Change) -> None:
        targets: set[Follows] = set()
        for channel in change.channels():
            targets.update(self._by_channel.get(channel, ()))
        for hold in targets:
            hold.deliver(position, change)
        self._position = position

    def _skip_gap(self, newest: int) -> None:
        """The entry after the position is missing: wait for its writer a
        while, then move past it."""
        now = time.monotonic()
        if self._gap_since is None:
            self._gap_since = now
            return
        if now - self._gap_since < GAP_TIMEOUT:
            return
        self._gap_since = None
        position = self._position + 1
        limit = min(newest, self._position + _GAP_PROBE)
        while position < limit and not self.bus.exists(position + 1):
            position += 1
        if position >= limit and limit < newest:
            position = newest - 1  # a long outage: its entries expired
        log.warning(
            "notification log entries %d-%d are missing; skipped",
            self._position + 1,
            position,
        )
        with self._lock:
            self._position = position

    def _fail_all(self) -> None:
        with self._lock:
            holds = {hold for holds in self._by_channel.values() for hold in holds}
            holds.update(self._sockets.values())
        for hold in holds:
            hold.fail()

    # -- sockets --------------------------------------------------------------

    def _watch(self, sock: socket.socket, hold: Follows) -> None:
        if self._poller is None:
            return
        try:
            fd = sock.fileno()
            self._poller.register(fd, _CLOSED)
        except (OSError, ValueError):
            return
        self._sockets[fd] = hold
        self._fds[hold] = fd

    def _forget(self, fd: int) -> None:
        try:
            self._poller.unregister(fd)
        except (OSError, ValueError):
            pass
