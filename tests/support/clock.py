"""A clock a test moves by hand, so tests of TTLs and intervals do not sleep.

The ``clock`` fixture (``tests/conftest.py``) puts one in place of
``time.time``, ``time.monotonic`` and ``time.sleep`` for one test, as
flask-caching's tests fake the time their cache reads. Library code reads
time through the ``time`` module (``time.time()``), so it sees this clock;
``time.sleep`` advances it (code that waits for a deadline still ends) and
yields to other threads without waiting.

Only the threads of the test move the clock: the test's own thread and the
threads started while the clock is in place. A daemon thread an earlier
test left behind (a store's probe, a bus follower) that sleeps meanwhile
sleeps for real; were it to move the clock, a TTL of this test would end
at a moment nobody chose.
"""

from __future__ import annotations

import threading
import time


class Clock:
    """Wall and monotonic time that move only when told to.

    :param wall: the starting ``time.time()``.
    :param monotonic: the starting ``time.monotonic()``.
    """

    def __init__(self, wall: float, monotonic: float) -> None:
        self._lock = threading.Lock()
        self._wall = wall
        self._monotonic = monotonic
        self._yield = time.sleep
        #: Threads alive before the clock was made: they do not move it.
        self._elders = {thread.ident for thread in threading.enumerate()} - {
            threading.get_ident()
        }

    def time(self) -> float:
        with self._lock:
            return self._wall

    def monotonic(self) -> float:
        with self._lock:
            return self._monotonic

    def advance(self, seconds: float) -> None:
        """Move both clocks forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self._lock:
            self._wall += seconds
            self._monotonic += seconds

    def sleep(self, seconds: float) -> None:
        """What ``time.sleep`` does under the fixture: advance, then yield
        (in a thread older than the clock: a real sleep)."""
        if threading.get_ident() in self._elders:
            self._yield(seconds)
            return
        self.advance(max(0.0, seconds))
        self._yield(0)
