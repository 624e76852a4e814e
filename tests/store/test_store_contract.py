"""What every backend promises: the semantics the transport and auth rely on."""

from __future__ import annotations

import multiprocessing
import threading
import time
import typing as t

import pytest

from flask_mcp.store import LockTimeout
from flask_mcp.store import Store
from flask_mcp.store import create_store

#: Racing processes start fresh: a fork of this test process (its threads
#: from other tests, their locks) could hang before it races.
SPAWN = multiprocessing.get_context("spawn")


def test_get_set_delete_and_namespaces(store: Store) -> None:
    assert store.get("k") is None
    store.set("k", {"a": [1, 2]}, 60)
    assert store.get("k") == {"a": [1, 2]}
    store.set("k", {"a": 3}, 60)
    assert store.get("k") == {"a": 3}
    child = store.child("c:")
    assert child.get("k") is None
    child.set("k", "child", 60)
    assert store.get("c:k") == "child"
    store.delete("k")
    store.delete("k")  # deleting a missing key is fine
    assert store.get("k") is None


def test_values_read_are_copies(store: Store) -> None:
    store.set("s", {"ids": ["a"]}, 60)
    value = store.get("s")
    value["ids"].append("b")
    assert store.get("s") == {"ids": ["a"]}


@pytest.mark.parametrize(
    "value",
    [b"bytes", {"a", "set"}, frozenset(), object(), {"when": time}, [1, {2j}]],
    ids=["bytes", "set", "frozenset", "object", "module", "nested complex"],
)
def test_only_json_data_is_stored(store: Store, value: object) -> None:
    with pytest.raises(TypeError):
        store.set("k", value, 60)
    with pytest.raises(TypeError):
        store.add("k", value, 60)
    assert store.get("k") is None


def test_json_data_comes_back_as_json_reads_it(store: Store) -> None:
    value = {
        "text": "snow \u2603 \U0001f600 and a lone \udc80 surrogate",
        "numbers": [0, -1, 2**70, 1.5, 1e-300],
        "flags": [True, False, None],
        "nested": {"list": [[], {}], "tuple": (1, 2)},
    }
    store.set("k", value, 60)
    read = store.get("k")
    assert read["nested"]["tuple"] == [1, 2]  # JSON has arrays, not tuples
    assert read == {**value, "nested": {"list": [[], {}], "tuple": [1, 2]}}


def test_subsecond_ttls_expire(store: Store) -> None:
    store.set("short", 1, 0.3)
    store.set("long", 2, 60)
    assert store.get("short") == 1
    time.sleep(0.5)
    assert store.get("short") is None
    assert store.take("short") is None
    assert store.get("long") == 2


def test_add_is_refused_while_live_and_allowed_once_expired(store: Store) -> None:
    assert store.add("lease", 1, 0.3)
    assert not store.add("lease", 2, 60)
    assert store.get("lease") == 1
    time.sleep(0.5)
    assert store.add("lease", 3, 60)
    assert store.get("lease") == 3


def test_take_returns_once(store: Store) -> None:
    store.set("code", "abc", 60)
    assert store.take("code") == "abc"
    assert store.take("code") is None
    assert store.get("code") is None


def test_incr_counts_and_restarts_after_expiry(store: Store) -> None:
    assert [store.incr("n", 60) for _ in range(3)] == [1, 2, 3]
    assert store.get("n") == 3
    store.incr("gone", 0.3)
    time.sleep(0.5)
    assert store.incr("gone", 60) == 1
    store.set("text", "not a number", 60)
    assert store.incr("text", 60) == 1  # a value that is no counter counts as 0


def test_add_is_atomic_between_threads(store: Store) -> None:
    winners: list[int] = []
    start = threading.Event()

    def contend(n: int) -> None:
        start.wait()
        if store.add("once", n, 60):
            winners.append(n)

    threads = [threading.Thread(target=contend, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    start.set()
    for thread in threads:
        thread.join(10)
    assert len(winners) == 1
    assert store.get("once") == winners[0]


def test_lock_times_out_with_a_clear_error(store: Store) -> None:
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with store.lock("busy"):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert held.wait(5)
        started = time.monotonic()
        with pytest.raises(LockTimeout, match="'t:busy'.*0.3 s"):
            with store.lock("busy", timeout=0.3):
                pass
        assert 0.25 < time.monotonic() - started < 2
    finally:
        release.set()
        thread.join(10)
    with store.lock("busy", timeout=1):  # free again
        pass


def test_locks_of_different_names_are_independent(store: Store) -> None:
    with store.lock("a", timeout=0.5):
        with store.lock("b", timeout=0.5):
            store.incr("b", 60)  # incr inside a lock of the same key
    assert store.get("b") == 1


def _locked_increments(url: str, rounds: int) -> None:
    store = create_store(url, "/nonexistent", "t:")
    for _ in range(rounds):
        with store.lock("counter", timeout=30):
            value = store.get("plain") or 0
            store.set("plain", value + 1, 60)  # not atomic by itself


def test_lock_excludes_other_processes(shared_url: str) -> None:
    procs = [
        SPAWN.Process(target=_locked_increments, args=(shared_url, 40))
        for _ in range(4)
    ]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(60)
        assert proc.exitcode == 0
    assert create_store(shared_url, "/x", "t:").get("plain") == 160


def in_processes(target: t.Callable[..., None], *args: t.Any) -> list[t.Any]:
    """What ``target(*args, out)`` put on ``out`` in each of four processes
    started together."""
    out: multiprocessing.Queue = SPAWN.Queue()
    procs = [SPAWN.Process(target=target, args=(*args, out)) for _ in range(4)]
    for proc in procs:
        proc.start()
    results = [out.get(timeout=30) for _ in procs]
    for proc in procs:
        proc.join(10)
    return results


def _when(start: float) -> None:
    while time.time() < start:
        time.sleep(0.001)


def _adder(url: str, start: float, out: multiprocessing.Queue) -> None:
    store = create_store(url, "/nonexistent", "t:")
    _when(start)
    out.put(store.add("lease", True, 60))


def test_add_is_won_by_one_process_even_over_an_expired_entry(shared_url: str) -> None:
    store = create_store(shared_url, "/x", "t:")
    for round_ in range(3):
        store.set("lease", "old", 0.05)
        time.sleep(0.1)  # expired, still on disk for the file store
        results = in_processes(_adder, shared_url, time.time() + 0.3)
        assert sorted(results) == [False, False, False, True], round_
        store.delete("lease")


def _taker(url: str, start: float, out: multiprocessing.Queue) -> None:
    store = create_store(url, "/nonexistent", "t:")
    _when(start)
    out.put([store.take(f"code-{n}") for n in range(20)])


def test_take_is_won_by_one_process(shared_url: str) -> None:
    store = create_store(shared_url, "/x", "t:")
    for n in range(20):
        store.set(f"code-{n}", n, 60)
    results = in_processes(_taker, shared_url, time.time() + 0.3)
    for n in range(20):
        winners = [taken[n] for taken in results if taken[n] is not None]
        assert winners == [n]


def _counter(url: str, rounds: int, out: multiprocessing.Queue) -> None:
    store = create_store(url, "/nonexistent", "t:")
    out.put([store.incr("count", 60) for _ in range(rounds)])


def test_incr_counts_every_process(shared_url: str) -> None:
    seen = [n for counted in in_processes(_counter, shared_url, 50) for n in counted]
    assert sorted(seen) == list(range(1, 201))  # no number given twice
    assert create_store(shared_url, "/x", "t:").get("count") == 200


def test_sweep_runs_once_per_interval(store: Store) -> None:
    store.set("old", 1, 0.05)
    time.sleep(0.1)
    assert store.sweep(every=60)
    assert not store.sweep(every=60)  # the lease is taken


def test_a_private_memory_store_stays_bounded() -> None:
    """Nothing sweeps a verifier's private cache: writes prune it."""
    from flask_mcp.store.backends import MemoryStoreBackend

    backend = MemoryStoreBackend()
    store = Store(backend, "t:")
    for n in range(3000):
        store.set(f"answer-{n}", n, 0.001)
    time.sleep(0.01)
    for n in range(1100):
        store.set(f"later-{n}", n, 0.001)
    assert backend.remove_expired() < 1100
