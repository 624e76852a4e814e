"""The ``clock`` fixture: library time moves only when the test moves it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from flask_mcp.store import create_store
from support.clock import Clock


def test_time_stands_still_until_advanced(clock: Clock) -> None:
    wall, mono = time.time(), time.monotonic()
    assert (time.time(), time.monotonic()) == (wall, mono)
    clock.advance(90)
    assert (time.time() - wall, time.monotonic() - mono) == (90, 90)


def test_sleep_advances_instead_of_waiting(clock: Clock) -> None:
    started = time.perf_counter()
    wall = time.time()
    time.sleep(3600)
    assert time.time() - wall == 3600
    assert time.perf_counter() - started < 1


def test_a_clock_never_goes_back(clock: Clock) -> None:
    with pytest.raises(ValueError, match="forward"):
        clock.advance(-1)


def test_a_store_ttl_follows_the_clock(clock: Clock, tmp_path: Path) -> None:
    store = create_store("memory://", str(tmp_path), "t:")
    store.set("k", "v", 10)
    clock.advance(9.5)
    assert store.get("k") == "v"
    clock.advance(1)
    assert store.get("k") is None


def test_a_store_wait_ends_on_the_clock(clock: Clock, tmp_path: Path) -> None:
    store = create_store(f"file://{tmp_path}/s", str(tmp_path), "t:")
    started = time.perf_counter()
    assert store.wait_take("never", timeout=30) is None
    assert time.perf_counter() - started < 5
