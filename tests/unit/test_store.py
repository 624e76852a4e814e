"""The shared store: atomic operations hold across processes, expiry works."""

from __future__ import annotations

import multiprocessing
import time

import pytest

from flask_mcp.store import Store
from flask_mcp.store import create_store
from flask_mcp.store.factory import create_backend
from support.clock import Clock

#: Racing processes start fresh: a fork of this test process (its threads
#: from other tests, their locks) could hang before it races.
SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture(params=["file", "redis"])
def store_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "file":
        return f"file://{tmp_path}/store"
    server = request.getfixturevalue("redis_server")
    server.flushall()
    return server.url


def _open(url: str) -> Store:
    return create_store(url, "/nonexistent", "test:")


def _racer(url: str, key: str, start: float, out: multiprocessing.Queue) -> None:
    store = _open(url)
    while time.time() < start:
        time.sleep(0.001)
    out.put(store.take(key))


def test_take_is_won_by_exactly_one_process(store_url: str) -> None:
    store = _open(store_url)
    for round_ in range(5):
        key = f"code-{round_}"
        store.set(key, {"round": round_}, 60)
        out: multiprocessing.Queue = SPAWN.Queue()
        start = time.time() + 0.3
        procs = [
            SPAWN.Process(target=_racer, args=(store_url, key, start, out))
            for _ in range(4)
        ]
        for proc in procs:
            proc.start()
        results = [out.get(timeout=10) for _ in procs]
        for proc in procs:
            proc.join(5)
        assert [r for r in results if r is not None] == [{"round": round_}]


def test_add_only_once_and_counters(store_url: str) -> None:
    store = _open(store_url)
    assert store.add("lease", 1, 60)
    assert not store.add("lease", 2, 60)
    assert store.get("lease") == 1
    assert [store.incr("n", 60) for _ in range(3)] == [1, 2, 3]


def test_entries_expire_and_are_swept(tmp_path, clock: Clock) -> None:
    # No sweeper thread: started under the fake clock, its sleep would move
    # the clock a whole interval and expire "long" (a flaky failure).
    store = Store(
        create_backend(f"file://{tmp_path}/store", "/nonexistent", sweep_interval=0),
        "test:",
    )
    store.set("short", "x", 0.2)
    store.set("long", "y", 60)
    clock.advance(0.3)
    assert store.get("short") is None
    assert store.add("short", "again", 60)  # an expired entry does not block add
    store.set("gone", "z", 0.2)
    clock.advance(0.3)
    assert store.remove_expired() == 1
    assert store.get("long") == "y"
    assert store.get("short") == "again"
    assert store.remove_expired() == 0


def test_namespaces_do_not_collide(tmp_path) -> None:
    a = create_store(f"file://{tmp_path}/s", "/x", "a:")
    b = create_store(f"file://{tmp_path}/s", "/x", "b:")
    a.set("k", 1, 60)
    assert b.get("k") is None


def test_wait_take_gets_a_value_written_later(store_url: str) -> None:
    store = _open(store_url)
    proc = SPAWN.Process(target=_late_writer, args=(store_url,))
    proc.start()
    assert store.wait_take("reply", timeout=5) == {"ok": True}
    proc.join(5)
    assert store.wait_take("reply", timeout=0.1) is None


def _late_writer(url: str) -> None:
    time.sleep(0.3)
    _open(url).set("reply", {"ok": True}, 60)
