"""Redis stopped, frozen and restarted: StoreUnavailable fast, one log line
per outage, recovery without a new client; foreign or corrupt values."""

from __future__ import annotations

import logging
import threading
import time

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
        if r.name == "flask_mcp.store" and r.levelno >= logging.INFO
    ]


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
    assert [level for level, _ in store_log(caplog)] == [logging.WARNING]
    assert "Redis" in store_log(caplog)[0][1]
    assert not [r for r in caplog.records if r.exc_info]

    own_redis.start()  # the same client works again: pooled connections renew
    store.set("k", 2, 60)
    assert store.get("k") == 2
    assert [level for level, _ in store_log(caplog)] == [
        logging.WARNING,
        logging.INFO,
    ]


def test_frozen_answers_within_the_timeout(
    own_redis, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "flask_mcp.store")
    store = store_from_config(
        {"MCP_STORE_URL": own_redis.url, "MCP_STORE_TIMEOUT": 0.5}, "/x", "t:"
    )
    store.set("k", 1, 60)
    own_redis.freeze()
    try:
        for name in ("get", "set", "take", "incr", "lock"):
            assert timed(OPERATIONS[name], store) < 1.5, name
    finally:
        own_redis.thaw()
    assert store.get("k") == 1
    store.set("k", 2, 60)
    assert [level for level, _ in store_log(caplog)] == [
        logging.WARNING,
        logging.INFO,
    ]


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


def test_foreign_and_corrupt_values_read_as_missing(own_redis) -> None:
    store = create_store(own_redis.url, "/x", "t:")
    own_redis.command("SET", "t:text", "not a pickle")
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


def test_counters_read_back_as_integers(own_redis) -> None:
    store = create_store(own_redis.url, "/x", "t:")
    store.incr("n", 60)
    store.incr("n", 60)
    assert store.get("n") == 2
    assert not store.add("n", 0, 60)  # a live counter is a live entry
