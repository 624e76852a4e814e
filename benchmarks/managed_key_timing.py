"""How long ``KeyRing.check`` takes for each kind of presented managed key:
whether the answer's timing tells an unknown (or revoked) key id from a known
one (red team, finding 8).

Five cases, each a well-formed ``mcpk_`` key: an id never created, the id of
a revoked key, a known id with a wrong secret, an expired key, a valid key.
They are timed in interleaved rounds (so the noise of a shared machine hits
each alike) against the memory, file and Redis stores; the table gives the
median µs per call and each case's difference from a wrong secret (what an
attacker holding a real id sees).

Run from the repository root (Redis is skipped without ``redis-server``)::

    python -m benchmarks.managed_key_timing [--calls 3000] [--rounds 5]

A measurement, not a test: a timing threshold in the test suite would fail
on a loaded machine and pass on a broken one.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import typing as t

from flask_mcp.auth.keyring import KeyRing
from flask_mcp.store import Store
from flask_mcp.store.backends import FileStoreBackend
from flask_mcp.store.backends import MemoryStoreBackend

CASES = ("unknown id", "revoked", "wrong secret", "expired", "valid")


def presented_keys(ring: KeyRing, clock: list[float]) -> dict[str, str]:
    """A key of each case, made in ``ring``."""
    valid, _ = ring.create("valid")
    wrong = valid[:-4] + ("AAAA" if not valid.endswith("AAAA") else "BBBB")
    expired, _ = ring.create("expired", expires_in=60)
    revoked, _ = ring.create("revoked")
    ring.revoke("revoked")
    clock[0] += 3600  # "expired" has expired, the others never do
    return {
        "unknown id": "mcpk_0123456789abcdef_" + valid[len("mcpk_") + 17 :],
        "revoked": revoked,
        "wrong secret": wrong,
        "expired": expired,
        "valid": valid,
    }


def per_call(ring: KeyRing, key: str, calls: int) -> float:
    """Median µs of ``calls`` checks of ``key``, timed one by one."""
    times = []
    for _ in range(calls):
        started = time.perf_counter_ns()
        ring.check(key)
        times.append(time.perf_counter_ns() - started)
    return statistics.median(times) / 1000


def measure(store: Store, calls: int, rounds: int) -> dict[str, float]:
    clock = [time.time()]
    ring = KeyRing(store, clock=lambda: clock[0])
    keys = presented_keys(ring, clock)
    for key in keys.values():  # warm up
        per_call(ring, key, 200)
    results: dict[str, list[float]] = {case: [] for case in CASES}
    for _ in range(rounds):
        for case in CASES:
            results[case].append(per_call(ring, keys[case], calls))
    return {case: statistics.median(values) for case, values in results.items()}


@contextlib.contextmanager
def redis_store() -> t.Iterator[Store | None]:
    """A store on a throwaway ``redis-server`` (stopped on leaving)."""
    if shutil.which("redis-server") is None:
        yield None
        return
    import redis

    from flask_mcp.store.backends import RedisStoreBackend

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no", "--dir", folder],
            stdout=subprocess.DEVNULL,
        )
        try:
            client = redis.Redis(port=port)
            for _ in range(100):
                with contextlib.suppress(redis.ConnectionError):
                    client.ping()
                    break
                time.sleep(0.05)
            yield Store(RedisStoreBackend(client), "bench:")
        finally:
            server.terminate()
            server.wait(10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.1f}, {options.calls} calls x")
    print(f"{options.rounds} rounds per case; median µs per check\n")
    print("| store | " + " | ".join(CASES) + " | unknown - wrong secret |")
    print("| --- |" + " ---: |" * (len(CASES) + 1))
    with tempfile.TemporaryDirectory() as folder, redis_store() as redis:
        stores = {
            "memory": Store(MemoryStoreBackend(), "bench:"),
            "file": Store(FileStoreBackend(folder), "bench:"),
            "redis": redis,
        }
        for name, store in stores.items():
            if store is None:
                print(f"| {name} | (no redis-server) |")
                continue
            found = measure(store, options.calls, options.rounds)
            gap = found["unknown id"] - found["wrong secret"]
            cells = " | ".join(f"{found[case]:.1f}" for case in CASES)
            print(f"| {name} | {cells} | {gap:+.1f} |")
    print(f"\nload average {os.getloadavg()[0]:.1f} at the end")


if __name__ == "__main__":
    main()
