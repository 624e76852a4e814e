"""Publishing to the gateway from a background sender.

A request that changes something (a tool that calls
``notify_list_changed``) must not wait for the gateway: the change is
already in the store's bus when :meth:`Publisher.send` queues its items,
and a thread of the worker posts them to the gateway's publishing endpoint
with ``gripcontrol``, in the order they were queued.

When the gateway cannot be reached the sender keeps the items (up to
``capacity`` batches, the oldest dropped first), logs one error, retries
with a growing pause, and logs one warning when it is back. Held streams
lose nothing the queue kept; what it had to drop they fetch from the bus
through their next link once the gateway notices the gap in the chain.
"""

from __future__ import annotations

import atexit
import collections
import logging
import os
import threading
import time
import typing as t
import weakref
from collections.abc import Sequence

import requests
from gripcontrol import GripPubControl
from pubcontrol import Item
from requests.adapters import HTTPAdapter

log = logging.getLogger(__name__)

#: One item for one channel.
Publication = tuple[str, Item]


class _TimeoutAdapter(HTTPAdapter):
    """``requests`` sends without a deadline unless told: a frozen gateway
    would hold the sender forever."""

    def __init__(self, timeout: float) -> None:
        super().__init__(max_retries=0)
        self.timeout = timeout

    def send(self, request: t.Any, **kwargs: t.Any) -> t.Any:  # type: ignore[override]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        return super().send(request, **kwargs)


class Publisher:
    """Sends batches of :data:`Publication` to one GRIP publishing endpoint.

    :param config: ``gripcontrol.parse_grip_uri(MCP_GRIP_URL)``.
    :param capacity: batches kept while the gateway is away.
    :param timeout: seconds one publishing request may take.
    """

    #: First and longest pause between attempts while the gateway is away.
    retry_first = 0.25
    retry_max = 5.0
    #: Longest wait at exit for what is queued.
    exit_wait = 1.0

    def __init__(
        self, config: dict[str, t.Any], *, capacity: int = 10_000, timeout: float = 2.0
    ) -> None:
        self.config = config
        self.url = str(config["control_uri"])
        self.capacity = capacity
        self.timeout = timeout
        self._lock = threading.Lock()
        self._queue: collections.deque[list[Publication]] = collections.deque()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._thread: threading.Thread | None = None
        self._busy = False
        self._down_since: float | None = None
        self._dropped = 0
        # A forked worker starts afresh: its own lock, queue and sender.
        after_fork = weakref.WeakMethod(self._after_fork)
        os.register_at_fork(after_in_child=lambda: _call(after_fork))

    # -- the worker's side -------------------------------------------------

    def send(self, batch: Sequence[Publication]) -> None:
        """Queue ``batch``; never blocks. Starts the sender in this process."""
        with self._lock:
            if len(self._queue) >= self.capacity:
                self._queue.popleft()
                self._dropped += 1
            self._queue.append(list(batch))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mcp-grip-publisher", daemon=True
                )
                self._thread.start()
                atexit.register(self._at_exit)
            self._wake.notify()

    @property
    def reachable(self) -> bool:
        """``False`` from a failed attempt until the next one succeeds."""
        return self._down_since is None

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued was sent; ``False`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while self._queue or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def _at_exit(self) -> None:
        """A process that exits (a CLI command that ended sessions) sends
        what it queued first, unless the gateway is away."""
        if self.reachable:
            self.flush(self.exit_wait)

    # -- the sender ------------------------------------------------------------

    def _after_fork(self) -> None:
        self._lock = threading.Lock()
        self._queue = collections.deque()
        self._wake = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self._thread = None
        self._busy = False
        self._down_since = None
        self._dropped = 0

    def _run(self) -> None:
        control = self._control()
        pause = self.retry_first
        while True:
            with self._lock:
                while not self._queue:
                    self._busy = False
                    self._idle.notify_all()
                    self._wake.wait()
                batch = self._queue[0]
                self._busy = True
            try:
                for channel, item in batch:
                    control.publish(channel, item, blocking=True)
            except Exception as exc:  # requests' errors, gripcontrol's ValueError
                self._failed(exc)
                time.sleep(pause)
                pause = min(pause * 2, self.retry_max)
                continue
            pause = self.retry_first
            with self._lock:
                if self._queue and self._queue[0] is batch:
                    self._queue.popleft()
                down_since, dropped = self._down_since, self._dropped
                self._down_since, self._dropped = None, 0
            if down_since is not None:
                log.warning(
                    "MCP gateway %s reachable again after %.1f s (%d notification"
                    " batches were dropped; held streams fetch them from the store)",
                    self.url,
                    time.monotonic() - down_since,
                    dropped,
                )

    def _failed(self, exc: Exception) -> None:
        with self._lock:
            first = self._down_since is None
            if first:
                self._down_since = time.monotonic()
        if first:  # one line per outage
            log.error(
                "MCP gateway %s unreachable: %s; notifications wait in the"
                " worker, new streams are held by the workers until it is back",
                self.url,
                exc,
            )

    def _control(self) -> GripPubControl:
        control = GripPubControl(self.config)
        adapter = _TimeoutAdapter(self.timeout)
        for client in control.clients:
            session: requests.Session = client.requests_session
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        return control


def _call(method: weakref.WeakMethod[t.Callable[[], None]]) -> None:
    bound = method()
    if bound is not None:
        bound()
