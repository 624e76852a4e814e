"""Redis stopped, frozen and restarted: StoreUnavailable fast (the circuit
opens and a background probe closes it), one warning each way per outage,
recovery without a new client; foreign, corrupt and planted values."""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from pathlib import Path

import pytest

from flask_mcp.store import LockTimeout
from flask_mcp.store import Store
from flask_mcp.store import StoreUnavailable
from flask_mcp.store import create_store
from flask_mcp.store import store_from_config

OPERATIONS = {
    "get": lambda s: s.get("k"),
    "set": lambda s: s.set("k", 1, 60),
    "add": lambda s: s.add("k", 1, 60),
    "delete": lambda s: s.delete("k"),
    "take": lambda s: s.take("k"),
    "incr": lambda s: s.incr("n", 60),
    "lock": lambda s: s.lock("l", timeout=5).__enter__(),
}


def store_log(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [
        (r.levelno, r.getMessage())
        for r in caplog.records
        if r.name.startswith("flask_mcp.store") and r.levelno >= logging.INFO
    ]


def wait_until(condition, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.02)


def timed(call, store: Store) -> float:
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        call(store)
    assert not isinstance(caught.value, LockTimeout)
    return time.monotonic() - started


def test_stopped_then_restarted(own_redis, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "flask_mcp.store")
    store = create_store(own_redis.url, "/x", "t:", timeout=1)
    store.set("kept", "v", 60)
    own_redis.stop()
    for _ in range(3):
        for name, call in OPERATIONS.items():
            assert timed(call, store) < 1, name  # refused at once
    assert store.health.open
    assert [level for level, _ in store_log(caplog)] == [logging.WARNING]
    assert "Redis" in store_log(caplog)[0][1]
    assert not [r for r in caplog.records if r.exc_info]

    own_redis.start()  # the same client works again: pooled connections renew
    wait_until(lambda: not store.health.open)  # the probe found it back
    store.set("k", 2, 60)
    assert store.get("k") == 2
    assert store.get("kept") is None  # a restart without persistence
    log = store_log(caplog)
    assert [level for level, _ in log] == [logging.WARNING, logging.WARNING]
    assert "available again" in log[1][1]


def test_frozen_costs_one_timeout_then_fails_fast(
    own_redis, caplog: pytest.LogCaptureFixture
) -> None:
    """A frozen Redis answers nothing: the first call waits for the timeout,
    every later one fails at once while one background probe waits for it."""
    caplog.set_level(logging.INFO, "flask_mcp.store")
    store = store_from_config(
        {"MCP_STORE_URL": own_redis.url, "MCP_STORE_TIMEOUT": 0.5}, "/x", "t:"
    )
    store.set("k", 1, 60)
    own_redis.freeze()
    try:
        assert 0.4 < timed(OPERATIONS["get"], store) < 1.5
        started = time.monotonic()
        for _ in range(50):
            for call in OPERATIONS.values():
                timed(call, store)
        assert time.monotonic() - started < 0.5  # 350 calls, none waited
        name = f"flask_mcp store probe: {store.health.name}"
        assert [t.name for t in threading.enumerate()].count(name) == 1
    finally:
        own_redis.thaw()
    wait_until(lambda: not store.health.open)
    assert store.get("k") == 1
    store.set("k", 2, 60)
    assert [level for level, _ in store_log(caplog)] == [
        logging.WARNING,
        logging.WARNING,
    ]


def test_children_share_one_circuit(own_redis) -> None:
    store = create_store(own_redis.url, "/x", "t:", timeout=0.5)
    child = store.child("c:")
    own_redis.stop()
    with pytest.raises(StoreUnavailable):
        store.get("k")
    started = time.monotonic()
    with pytest.raises(StoreUnavailable, match="background probe"):
        child.set("k", 1, 60)
    assert time.monotonic() - started < 0.05


def test_wait_take_stops_when_redis_goes_away(own_redis) -> None:
    store = create_store(own_redis.url, "/x", "t:", timeout=0.5)
    outcome: list[BaseException | object] = []

    def wait() -> None:
        try:
            outcome.append(store.wait_take("reply", timeout=30))
        except BaseException as error:  # noqa: B036 - reported to the test
            outcome.append(error)

    thread = threading.Thread(target=wait)
    thread.start()
    time.sleep(0.3)
    stopped = time.monotonic()
    own_redis.freeze()
    try:
        thread.join(5)
        assert not thread.is_alive()
        assert time.monotonic() - stopped < 2
    finally:
        own_redis.thaw()
    assert len(outcome) == 1 and isinstance(outcome[0], StoreUnavailable)


def test_lock_waits_at_most_its_timeout(own_redis) -> None:
    holder = create_store(own_redis.url, "/x", "t:")
    waiter = create_store(own_redis.url, "/x", "t:")
    with holder.lock("busy"):
        started = time.monotonic()
        with pytest.raises(LockTimeout):
            with waiter.lock("busy", timeout=0.3):
                pass
        assert time.monotonic() - started < 1.5
    with waiter.lock("busy", timeout=1):
        pass


def test_a_dead_holders_lock_frees_itself(own_redis) -> None:
    from flask_mcp.store.backends import RedisStoreBackend

    backend = RedisStoreBackend.from_url(own_redis.url)
    backend.lock_hold = 0.5
    crashed = Store(backend, "t:").lock("orphan")
    crashed.__enter__()  # never released: its process "died"
    with Store(backend, "t:").lock("orphan", timeout=3):
        pass


class Planted:
    """Unpickling this runs code: it touches a file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):  # type: ignore[no-untyped-def]
        return (os.system, (f"touch {self.path}",))


def test_a_planted_pickle_never_runs(own_redis, tmp_path: Path) -> None:
    import redis

    marker = tmp_path / "pwned"
    payload = pickle.dumps(Planted(marker))
    raw = redis.Redis.from_url(own_redis.url)
    for key in ("get", "take", "add", "incr", "lock"):
        raw.set(f"t:{key}", payload)
    store = create_store(own_redis.url, "/x", "t:")
    assert store.get("get") is None
    assert store.take("take") is None
    assert store.add("add", "fresh", 60)
    assert store.get("add") == "fresh"
    assert store.incr("incr", 60) == 1
    assert not marker.exists()
    raw.close()


def test_foreign_and_corrupt_values_read_as_missing(own_redis) -> None:
    store = create_store(own_redis.url, "/x", "t:")
    own_redis.command("SET", "t:text", "not json")
    own_redis.command("SET", "t:bad-pickle", "\x80garbage")
    own_redis.command("LPUSH", "t:list", "x")
    own_redis.command("HSET", "t:hash", "f", "v")
    for key in ("text", "bad-pickle", "list", "hash"):
        assert store.get(key) is None, key
    assert store.take("list") is None
    assert store.incr("text", 60) == 1
    assert store.incr("hash", 60) == 1
    assert store.add("list", "mine", 60)  # a key of another type is replaced
    assert store.get("list") == "mine"
    assert not store.add("list", "again", 60)
    own_redis.command("SET", "t:prose", "not json either")
    assert store.add("prose", "json now", 60)  # so is a value that is not JSON
    own_redis.command("SET", "t:null", "null")
    assert store.get("null") is None
    assert store.add("null", 1, 60)  # JSON null is no live entry


def test_counters_read_back_as_integers(own_redis) -> None:
    store = create_store(own_redis.url, "/x", "t:")
    store.incr("n", 60)
    store.incr("n", 60)
    assert store.get("n") == 2
    assert not store.add("n", 0, 60)  # a live counter is a live entry


def test_a_dropped_store_takes_its_probe_with_it(own_redis) -> None:
    import gc

    store = create_store(own_redis.url, "/x", "dropped:", timeout=0.2)
    store.health.probe_interval = 0.05
    name = f"flask_mcp store probe: {store.health.name}"
    own_redis.stop()
    with pytest.raises(StoreUnavailable):
        store.get("k")
    assert name in [t.name for t in threading.enumerate()]
    del store
    gc.collect()
    deadline = time.monotonic() + 5
    while name in [t.name for t in threading.enumerate()]:
        assert time.monotonic() < deadline, "the probe outlived its store"
        time.sleep(0.05)
