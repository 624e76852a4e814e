"""A full or read-only disk under the file store: StoreUnavailable, one
warning each way, recovery without a restart, reads that keep working."""

from __future__ import annotations

import errno
import logging
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
        if r.name.startswith("flask_mcp.store") and r.levelno >= logging.INFO
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
    files = create_store(f"file://{small_disk}/files", "/x", "t:")
    files.set("kept", {"v": 1}, 60)
    fill(small_disk / "filler")
    big = "x" * 20_000
    for attempt in range(5):
        with pytest.raises(StoreUnavailable, match="full"):
            files.set(f"new-{attempt}", big, 60)
    assert not files.health.open  # a full disk fails fast by itself
    assert files.get("kept") == {"v": 1}  # reads still work
    with files.lock("empty lock files fit on a full disk", timeout=1):
        pass
    warnings = store_log(caplog)
    assert len(warnings) == 1 and warnings[0][0] == logging.WARNING
    assert "is unavailable" in warnings[0][1] and str(small_disk) in warnings[0][1]
    assert not [r for r in caplog.records if r.exc_info]

    (small_disk / "filler").unlink()  # space again: no restart needed
    files.set("new", big, 60)
    assert files.get("new") == big
    assert [level for level, _ in store_log(caplog)] == [
        logging.WARNING,
        logging.WARNING,
    ]
    assert "available again" in store_log(caplog)[1][1]


def test_read_only_disk(remountable, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "flask_mcp.store")
    files = create_store(f"file://{remountable.path}/files", "/x", "t:")
    files.set("kept", 1, 60)
    files.set("stale", 1, 0.05)
    time.sleep(0.1)
    # A disk that turns read-only under a running server (errors=remount-ro)
    # cannot be staged with a bind mount while files are open for writing.
    files.backend.close()  # type: ignore[attr-defined]
    remountable.read_only()
    for call in (
        lambda: files.set("k", 1, 60),
        lambda: files.add("k", 1, 60),
        lambda: files.incr("k", 60),
        lambda: files.take("kept"),
        lambda: files.delete("missing"),
        lambda: files.remove_expired(),
    ):
        with pytest.raises(StoreUnavailable):
            call()
    with pytest.raises(StoreUnavailable) as caught:
        with files.lock("x", timeout=1):
            pass
    assert not isinstance(caught.value, LockTimeout)
    for _ in range(3):
        assert files.get("kept") == 1  # reads work, and end nothing
        assert files.get("missing") is None
    assert len(store_log(caplog)) == 1
    assert not [r for r in caplog.records if r.exc_info]

    remountable.writable()
    assert files.remove_expired() == 1
    assert files.take("kept") == 1
    files.set("k", 2, 60)
    assert [level for level, _ in store_log(caplog)] == [
        logging.WARNING,
        logging.WARNING,
    ]


def test_a_store_on_a_read_only_disk_can_still_be_created(
    remountable,
) -> None:
    remountable.read_only()
    files: Store = create_store(f"file://{remountable.path}/files", "/x", "t:")
    assert files.get("k") is None
    with pytest.raises(StoreUnavailable):
        files.set("k", 1, 60)
