"""One process only: for tests, the development server and private caches."""

from __future__ import annotations

import contextlib
import threading
import time
import typing as t

from ..codec import dumps
from ..codec import loads
from ..errors import LockTimeout

#: Writes between two removals of expired entries.
_PRUNE_EVERY = 1024


class MemoryStoreBackend:
    """A dict with expiry. Values are kept pickled, as the shared backends
    keep them, so a caller mutating what it read never changes the store.

    Nothing sweeps a private store (a verifier's cache of introspection
    answers, one per token), so every ``_PRUNE_EVERY`` writes drop the
    expired entries: memory stays bounded by the live ones.
    """

    def __init__(self) -> None:
        self._data: dict[str, tuple[float, bytes]] = {}
        self._writes = 0
        self._mutex = threading.Lock()
        #: Named locks in use, with how many threads hold or wait for each.
        self._locks: dict[str, tuple[threading.Lock, int]] = {}

    def __repr__(self) -> str:
        return "MemoryStoreBackend()"

    def _live(self, key: str) -> bytes | None:
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[0] <= time.time():
            del self._data[key]
            return None
        return entry[1]

    def get(self, key: str) -> t.Any:
        with self._mutex:
            data = self._live(key)
        return None if data is None else loads(data)

    def _put(self, key: str, data: bytes, ttl: float) -> None:
        now = time.time()
        self._data[key] = (now + ttl, data)
        self._writes += 1
        if self._writes % _PRUNE_EVERY == 0:
            self._prune(now)

    def _prune(self, now: float) -> int:
        expired = [key for key, entry in self._data.items() if entry[0] <= now]
        for key in expired:
            del self._data[key]
        return len(expired)

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        data = dumps(value)
        with self._mutex:
            self._put(key, data, ttl)

    def add(self, key: str, value: t.Any, ttl: float) -> bool:
        data = dumps(value)
        with self._mutex:
            if self._live(key) is not None:
                return False
            self._put(key, data, ttl)
            return True

    def delete(self, key: str) -> None:
        with self._mutex:
            self._data.pop(key, None)

    def take(self, key: str) -> t.Any:
        with self._mutex:
            data = self._live(key)
            self._data.pop(key, None)
        return None if data is None else loads(data)

    def incr(self, key: str, ttl: float) -> int:
        with self._mutex:
            data = self._live(key)
            current = 0 if data is None else loads(data)
            value = current + 1 if type(current) is int else 1
            self._put(key, dumps(value), ttl)
            return value

    @contextlib.contextmanager
    def lock(self, name: str, timeout: float) -> t.Iterator[None]:
        with self._mutex:
            lock, users = self._locks.get(name) or (threading.Lock(), 0)
            self._locks[name] = (lock, users + 1)
        try:
            if not lock.acquire(timeout=max(0.0, timeout)):
                raise LockTimeout(name, timeout)
            try:
                yield
            finally:
                lock.release()
        finally:
            with self._mutex:
                users = self._locks[name][1] - 1
                if users:
                    self._locks[name] = (lock, users)
                else:
                    del self._locks[name]

    def remove_expired(self) -> int:
        with self._mutex:
            return self._prune(time.time())
