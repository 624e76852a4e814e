"""The store's signals: each operation timed (while someone listens, for
the store listened to), each outage announced once, its end once."""

from __future__ import annotations

import typing as t

import pytest

from flask_mcp.signals import store_called
from flask_mcp.signals import store_recovered
from flask_mcp.signals import store_unavailable
from flask_mcp.store import Store
from flask_mcp.store import StoreUnavailable
from flask_mcp.store.backends import MemoryStoreBackend


class Flaky(MemoryStoreBackend):
    down = False
    unreachable = False

    def get(self, key: str) -> t.Any:
        if self.down:
            raise StoreUnavailable("down", unreachable=self.unreachable)
        return super().get(key)

    def ping(self) -> None:
        if self.down:
            raise StoreUnavailable("still down")


def test_calls_and_outages_are_announced_to_the_stores_listeners() -> None:
    backend = Flaky()
    store, other = Store(backend), Store(MemoryStoreBackend())
    calls: list[dict[str, t.Any]] = []
    down: list[dict[str, t.Any]] = []
    back: list[dict[str, t.Any]] = []
    with (
        store_called.connected_to(lambda s, **kw: calls.append(kw), store.health),
        store_unavailable.connected_to(lambda s, **kw: down.append(kw), store.health),
        store_recovered.connected_to(lambda s, **kw: back.append(kw), store.health),
    ):
        store.set("a", 1, 10)
        other.set("b", 2, 10)  # another store: not heard
        backend.down = True
        for _ in range(3):
            with pytest.raises(StoreUnavailable):
                store.child("x:").get("a")
        backend.down = False
        assert store.get("a") == 1
        with store.lock("l", timeout=1):
            pass
    assert [(c["kind"], c["failed"]) for c in calls] == [
        ("write", False),
        ("read", True),
        ("read", True),
        ("read", True),
        ("read", False),
        ("lock", False),
        ("remove", False),
    ]
    assert all(c["seconds"] >= 0 for c in calls)
    assert len(down) == 1 and down[0]["kind"] == "read"
    assert str(down[0]["error"]) == "down"
    assert len(back) == 1 and back[0]["kind"] == "read" and back[0]["seconds"] >= 0


def test_refusals_while_the_store_is_known_down_count_as_failed_calls() -> None:
    backend = Flaky()
    backend.down = backend.unreachable = True
    store = Store(backend, probe_interval=60)
    calls: list[dict[str, t.Any]] = []
    with store_called.connected_to(lambda s, **kw: calls.append(kw), store.health):
        for _ in range(3):
            with pytest.raises(StoreUnavailable):
                store.get("a")
    assert store.health.open
    assert [c["failed"] for c in calls] == [True, True, True]
