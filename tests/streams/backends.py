"""A memory backend that counts reads and can be switched off (a store
outage without a Redis to stop, for tests of what the transport does)."""

from __future__ import annotations

import typing as t

from flask_mcp.store import StoreUnavailable
from flask_mcp.store.backends import MemoryStoreBackend


class CountingBackend(MemoryStoreBackend):
    def __init__(self) -> None:
        super().__init__()
        self.reads = 0
        self.down = False

    def get(self, key: str) -> t.Any:
        if self.down:
            raise StoreUnavailable("switched off")
        self.reads += 1
        return super().get(key)

    def set(self, key: str, value: t.Any, ttl: float) -> None:
        if self.down:
            raise StoreUnavailable("switched off")
        super().set(key, value, ttl)

    def incr(self, key: str, ttl: float) -> int:
        if self.down:
            raise StoreUnavailable("switched off")
        return super().incr(key, ttl)
