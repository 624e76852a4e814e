"""Held streams served by the worker itself, yielding to other requests.

The worker's thread writes the stream's head, then sleeps until the
:class:`~.follower.Follower` hands it a change, its client leaves, a
keep-alive is due, or the thread is wanted back (:mod:`.capacity`): then it
ends the stream gracefully and returns the thread to the pool. A sleeping
hold costs no CPU and no store reads of its own.
"""

from __future__ import annotations

import collections
import logging
import socket
import threading
import time
import typing as t

from werkzeug.wrappers import Response

from ..config import Settings
from ..store import StoreError
from .bus import REOPEN
from .bus import Change
from .bus import NotificationBus
from .capacity import WORKER
from .capacity import Admission
from .capacity import Capacity
from .capacity import backoff
from .fairshare import FairShare
from .follower import Follower
from .holds import HeldStream
from .responses import RETRY_AFTER
from .responses import busy
from .responses import stream_response
from .streaming import client_socket

log = logging.getLogger(__name__)

#: Why a hold ended (the argument of ``on_end``).
Ending = t.Literal["yield", "stop", "time", "reopen", "gone", "failed", "refused"]
OnEnd = t.Callable[[int, Ending], None]

_KEEPALIVE = b": keep-alive\n\n"
_STORE_FAILED = "Service unavailable: the server's store failed; reconnect later"


class _Hold:
    """One held stream in this worker: an inbox and a wake-up call."""

    def __init__(self, stream: HeldStream) -> None:
        self.stream = stream
        self.channels = stream.channels
        self.after = stream.after
        self.inbox: collections.deque[tuple[int, Change]] = collections.deque()
        self.ending: Ending | None = None
        self._wake = threading.Event()

    # Called by the follower (under its lock) and by the capacity.

    def deliver(self, position: int, change: Change) -> None:
        if position > self.after and self.stream.wants(change):
            self.inbox.append((position, change))
            self._wake.set()

    def gone(self) -> None:
        self._end("gone")

    def fail(self) -> None:
        self._end("failed")

    def yield_thread(self) -> None:
        self._end("yield")

    def stop(self) -> None:
        self._end("stop")

    def _end(self, why: Ending) -> None:
        if self.ending is None:
            self.ending = why
        self._wake.set()

    def wait(self, timeout: float) -> None:
        self._wake.wait(max(0.0, timeout))
        self._wake.clear()


class WorkerHolder:
    """Serves :class:`~.holds.HeldStream` descriptions in this worker.

    :param fair: the caps per principal and per address.
    :param capacity: the process's threads (:data:`.capacity.WORKER`).
    """

    def __init__(
        self,
        bus: NotificationBus,
        settings: Settings,
        fair: FairShare,
        capacity: Capacity = WORKER,
    ) -> None:
        self.bus = bus
        self.settings = settings
        self.fair = fair
        self.capacity = capacity
        self.follower = Follower(bus)

    def hold(
        self,
        stream: HeldStream,
        environ: t.Mapping[str, t.Any],
        on_end: OnEnd | None = None,
    ) -> Response:
        """Answer with ``stream``, held while the worker can spare the thread.

        :param on_end: called with the last position delivered and why the
            stream ended, whatever ended it.
        :raises HTTPError: 429 past the principal's or the address's cap;
            503 with ``Retry-After`` for a listen that finds no thread to
            spare or a stopping worker (ended at once, the client would
            listen again at once; a GET stream gets a retry hint instead).
        """
        ticket = self.fair.admit(stream.principal, stream.client, stream.request_id)

        def ended(position: int, why: Ending) -> None:
            ticket.release()
            if on_end is not None:
                on_end(position, why)

        return self._hold(stream, environ, ended)

    def _hold(
        self, stream: HeldStream, environ: t.Mapping[str, t.Any], on_end: OnEnd
    ) -> Response:
        hold = _Hold(stream)
        admission = self.capacity.admit(hold)
        if admission == "none" and stream.era == "listen":
            # A listen ended at once would be opened again at once: the
            # client is told when to come back instead.
            on_end(stream.after, "refused")
            if self.capacity.stopping:
                raise busy(1, "the server is restarting", stream.request_id)
            retry = self._backoff() / 1000
            raise busy(
                retry, "no thread to spare for a listen stream", stream.request_id
            )
        watched = client_socket(environ)
        kind = "listen" if stream.era == "listen" else "session"
        return stream_response(_Body(self, hold, admission, watched, on_end), kind)

    def body(
        self,
        hold: _Hold,
        admission: Admission,
        sock: socket.socket | None,
        on_end: OnEnd | None,
    ) -> t.Iterator[bytes]:
        stream = hold.stream
        # Until said otherwise: a write that fails means the client left.
        position = stream.after
        ending: Ending = "gone"
        following = False
        try:
            yield stream.head
            if admission == "none":
                ending = "refused" if not self.capacity.stopping else "stop"
                yield stream.end(position, self._backoff())
                return
            try:
                position = self.follower.follow(hold, sock)
                following = True
                missed = stream.replay(self.bus.changes(stream.after, position))
                if missed:
                    yield missed
            except StoreError:
                ending = "failed"
                yield stream.failure(_STORE_FAILED, RETRY_AFTER * 1000)
                return
            position = max(position, stream.after)
            hold.after = position
            ending, last = yield from self._serve(hold, admission)
            position = max(position, last)
        finally:
            if following:
                self.follower.unfollow(hold)
            self.release(hold, position, hold.ending or ending, on_end)

    def release(
        self, hold: _Hold, position: int, ending: Ending, on_end: OnEnd | None
    ) -> None:
        self.capacity.release(hold)
        if on_end is not None:
            try:
                on_end(position, ending)
            except StoreError as exc:  # bookkeeping that lapses by itself
                log.debug("after a held stream: %s", exc)

    def _serve(
        self, hold: _Hold, admission: Admission
    ) -> t.Generator[bytes, None, tuple[Ending, int]]:
        """Deliver changes until something ends the hold; why, and the
        position the client has everything up to."""
        stream = hold.stream
        limit = self._limit(stream, admission)
        keepalive = self.settings.keepalive_interval
        # Where nothing wakes a hold to stop (a sync worker's signal handler
        # only sets a flag), it looks at the flag every second.
        tick = keepalive if admission == "long" else min(keepalive, 1.0)
        started = last_write = time.monotonic()
        while True:
            now = time.monotonic()
            hold.wait(min(tick, keepalive - (now - last_write), started + limit - now))
            if self.capacity.stopping:
                hold.stop()
            with self.follower.locked():
                items = list(hold.inbox)
                hold.inbox.clear()
                position = self.follower.position
            for at, change in items:
                if change.method == REOPEN:  # the stream's description changed
                    yield stream.end(at, 0)
                    return "reopen", max(position, at)
                yield stream.event(at, change)
            if items:
                last_write = time.monotonic()
            ending = hold.ending
            if ending == "gone":
                return ending, position
            if ending == "failed":
                yield stream.failure(_STORE_FAILED, RETRY_AFTER * 1000)
                return ending, position
            if ending is not None:  # yield or stop
                retry = self._backoff() if ending == "yield" else None
                yield stream.end(position, retry)
                return ending, position
            now = time.monotonic()
            if now - started >= limit:
                yield stream.end(position)
                return "time", position
            if now - last_write >= keepalive:
                yield _KEEPALIVE
                last_write = now

    def _limit(self, stream: HeldStream, admission: Admission) -> float:
        if admission == "long":
            return self.settings.hold_max
        if stream.era == "listen":
            return self.settings.listen_hold
        return self.settings.stream_hold

    def _backoff(self) -> int:
        return backoff(self.settings.retry_ms)


class _Body:
    """The response body of a hold: its generator, and a ``close`` that
    releases the hold even when the server never started to iterate."""

    def __init__(
        self,
        holder: WorkerHolder,
        hold: _Hold,
        admission: Admission,
        sock: socket.socket | None,
        on_end: OnEnd | None,
    ) -> None:
        self._holder = holder
        self._hold = hold
        self._admission = admission
        self._sock = sock
        self._on_end = on_end
        self._iterator: t.Iterator[bytes] | None = None

    def __iter__(self) -> t.Iterator[bytes]:
        if self._iterator is None:
            self._iterator = self._holder.body(
                self._hold, self._admission, self._sock, self._on_end
            )
        return self._iterator

    def close(self) -> None:
        if self._iterator is None:
            self._iterator = iter(())
            self._holder.release(
                self._hold, self._hold.stream.after, "gone", self._on_end
            )
        else:
            t.cast(t.Generator[bytes, None, None], self._iterator).close()
