"""A full or read-only disk: StoreUnavailable, one log line each way, recovery."""

from __future__ import annotations

import errno
import logging
import os
import time
from pathlib import Path

import pytest

from flask_mcp.store import LockTimeout
from flask_mcp.store import Store
from flask_mcp.store import StoreUnavailable
from flask_mcp.store import create_store


def store_log(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str]]:
    return [
        (r.levelno, r.getMessage())
        for r in caplog.records
        if r.name == "flask_mcp.store" and r.levelno >= logging.INFO
    ]


def fill(path: Path) -> None:
    """Write until the disk says it is full."""
    with open(path, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"x" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC


def test_full_disk(small_disk: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "flask_mcp.store")
    store = create_store(f"file://{small_disk}/store", "/x", "t:")
    store.set("kept", {"v": 1}, 60)
    store.set("code", "abc", 60)
    fill(small_disk / "filler")
    big = "x" * 20000
    for attempt in range(5):
        with pytest.raises(StoreUnavailable, match="No space left"):
            store.set(f"new-{attempt}", big, 60)
    with pytest.raises(StoreUnavailable):
        store.incr("n", 60)
    with pytest.raises(StoreUnavailable):
        store.add("lease", big, 60)
    assert store.get("kept") == {"v": 1}  # reads still work
    assert store.take("code") == "abc"
    assert not store.add("kept", "other", 60)  # a live entry: no write needed
    with store.lock("empty lock files fit on a full disk", timeout=1):
        pass
    assert sorted(os.listdir(small_disk / "store")) == [".locks", _name("kept")]
    warnings = store_log(caplog)
    assert len(warnings) == 1 and warnings[0][0] == logging.WARNING
    assert "is unavailable" in warnings[0][1] and str(small_disk) in warnings[0][1]
    assert not [r for r in caplog.records if r.exc_info]

    (small_disk / "filler").unlink()  # space again: no restart needed
    store.set("new", big, 60)
    assert store.get("new") == big
    assert [level for level, _ in store_log(caplog)] == [logging.WARNING, logging.INFO]
    assert "available again" in store_log(caplog)[1][1]


def _name(key: str) -> str:
    import hashlib

    return hashlib.sha256(f"t:{key}".encode()).hexdigest()


def test_read_only_disk(remountable, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "flask_mcp.store")
    store = create_store(f"file://{remountable.path}/store", "/x", "t:")
    store.set("kept", 1, 60)
    store.set("stale", 1, 0.05)
    time.sleep(0.1)
    remountable.read_only()
    for call in (
        lambda: store.set("k", 1, 60),
        lambda: store.add("k", 1, 60),
        lambda: store.incr("k", 60),
        lambda: store.take("kept"),
        lambda: store.take("missing"),
        lambda: store.delete("missing"),
        lambda: store.remove_expired(),
    ):
        with pytest.raises(StoreUnavailable, match="Read-only"):
            call()
    with pytest.raises(StoreUnavailable, match="Read-only") as caught:
        with store.lock("x", timeout=1):
            pass
    assert not isinstance(caught.value, LockTimeout)
    for _ in range(3):
        assert store.get("kept") == 1  # reads work, and end nothing
    assert len(store_log(caplog)) == 1
    assert not [r for r in caplog.records if r.exc_info]

    remountable.writable()
    assert store.remove_expired() == 1
    assert store.take("kept") == 1
    store.set("k", 2, 60)
    assert [level for level, _ in store_log(caplog)] == [logging.WARNING, logging.INFO]


def test_a_store_on_a_read_only_disk_can_still_be_created(
    remountable,
) -> None:
    remountable.read_only()
    store: Store = create_store(f"file://{remountable.path}/store", "/x", "t:")
    assert store.get("k") is None
    with pytest.raises(StoreUnavailable):
        store.set("k", 1, 60)
